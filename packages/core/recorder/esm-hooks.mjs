// permlearn's ES module watcher for Node 20, which has no in-thread module hooks: the observe run
// registers it with module.register() from an --import file. It runs on Node's hooks thread and
// writes one `load` line per ES module file to the recorder's fd, the same line the recorder writes,
// with the run's token in front (which the --import file took from the recorder before any app code ran).
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let fd = -1;
let token;
const parents = new Map();

export function initialize(data) {
  if (data && typeof data.fd === 'number' && typeof data.key === 'string') {
    fd = data.fd;
    token = data.key;
  }
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result && typeof result.url === 'string' && typeof context?.parentURL === 'string' && !parents.has(result.url)) {
    parents.set(result.url, context.parentURL);
  }
  return result;
}

export async function load(url, context, next) {
  if (fd >= 0 && typeof url === 'string' && url.startsWith('file:')) {
    try {
      const parent = parents.get(url);
      const from = parent && parent.startsWith('file:') ? fileURLToPath(parent) : undefined;
      const body = JSON.stringify({ t: 'load', thread: 'main', file: fileURLToPath(url), from });
      writeSync(fd, `${token} ${body}\n`);
    } catch {
      fd = -1; // nobody is listening
    }
  }
  return next(url, context);
}
