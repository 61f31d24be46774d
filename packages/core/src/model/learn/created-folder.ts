// A folder the app creates, known from the denied call itself. On 20/22 the observe and enforce runs
// end at the first denied write; when that write is an mkdir, the folder is where the app will write
// next, and a plain grant of it lets the mkdir through and denies the first file created inside, which
// costs one more run. Granted as `dir/*` at once (Node covers a folder that does not exist yet only that
// way), it is covered before it exists, and so is what the app writes in it.
import type { Denial } from '../types.js';

/** The fs functions that create a folder at the path they name (fs.mkdir, fs.mkdirSync, fs.promises.mkdir). */
const MAKES_FOLDER = /^mkdir(Sync)?$/;

/** A denied write that was an mkdir of its resource, as the recorder's fs wrapper saw it. */
export function createsFolder(d: Denial): boolean {
  return d.permission === 'FileSystemWrite' && d.call !== undefined && MAKES_FOLDER.test(d.call);
}
