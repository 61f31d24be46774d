// Where @permlearn/core's own files are: its package folder and the recorder it preloads into the app.
// They are found by the package's name, not by this module's place on disk, so that they are the same
// whether this code runs from core's dist or inlined into the CLI's one-file build (packages/cli/build.mjs).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The @permlearn/core package folder, as Node resolves it (symlinks followed). */
export const CORE_DIR = path.dirname(fileURLToPath(import.meta.resolve('@permlearn/core/package.json')));

/** The folder of the recorder (recorder.cjs and its parts, the record preload). */
export const RECORDER_DIR = path.join(CORE_DIR, 'recorder');
