// Reading record files from disk: files named on the command line, or every record in a folder.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PermlearnError } from '../errors.js';
import { parseRecordFile, type RecordFile, type RecordLineCheck } from '../model/records/index.js';

/** The variable that gives the record preload its signing key (it removes it before app code runs),
 *  and permlearn the key to check records with. */
export const RECORD_KEY_ENV = 'PERMLEARN_RECORD_KEY';

/** Where `permlearn record --out DIR` keeps the key when none is given: beside the folder, not in it
 *  (an enforced service may write in the folder). */
export const keyFileOf = (folder: string): string => `${path.resolve(folder)}.key`;

/** The key a record folder's files are signed with: the environment's, else `<folder>.key`, else none. */
export function recordKeyFor(folder: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env[RECORD_KEY_ENV];
  if (typeof given === 'string' && given.length >= 16) return given;
  try {
    const text = readFileSync(keyFileOf(folder), 'utf8').trim();
    return text.length >= 16 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The key for `permlearn record --out DIR`: the environment's, the folder's key file, or a new one written 0600 beside it. */
export function ensureRecordKey(folder: string, env: NodeJS.ProcessEnv = process.env): { key: string; file?: string; created: boolean } {
  const given = env[RECORD_KEY_ENV];
  if (typeof given === 'string' && given.length >= 16) return { key: given, created: false };
  const file = keyFileOf(folder);
  const existing = recordKeyFor(folder, {});
  if (existing) return { key: existing, file, created: false };
  const key = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new PermlearnError('usage', `cannot write the record key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { key, file, created: true };
}

/** The line check for one key: the recorder's tag is the first 22 base64url characters of HMAC-SHA256(key, fileId + "\n" + body). */
export function recordLineCheck(key: string): RecordLineCheck {
  return (fileId, tag, body) => {
    const want = Buffer.from(createHmac('sha256', key).update(`${fileId}\n${body}`).digest('base64url').slice(0, 22));
    const given = Buffer.from(tag);
    return given.length === want.length && timingSafeEqual(given, want);
  };
}

/** A record holds at most the recorder's cap of entries: a file far larger is not one. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** The record files a list of paths names: files as given, folders by their `record-*.ndjson` files. */
export function findRecordFiles(given: readonly string[], cwd = process.cwd()): string[] {
  const out: string[] = [];
  for (const g of given) {
    const p = path.resolve(cwd, g);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new PermlearnError('usage', `--records ${g}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const found = readdirSync(p)
        .filter((n) => /^record-.*\.ndjson$/.test(n))
        .sort()
        .map((n) => path.join(p, n));
      if (found.length === 0) throw new PermlearnError('usage', `--records ${g}: the folder holds no record files (record-*.ndjson)`);
      out.push(...found);
    } else out.push(p);
  }
  return [...new Set(out)];
}

/** Read and parse each record file (a file over MAX_RECORD_BYTES is refused), checked against its
 *  folder's key when there is one (recordKeyFor). */
export function readRecordFiles(files: readonly string[], env: NodeJS.ProcessEnv = process.env): RecordFile[] {
  const checks = new Map<string, RecordLineCheck | undefined>();
  const checkFor = (folder: string) => {
    if (!checks.has(folder)) {
      const key = recordKeyFor(folder, env);
      checks.set(folder, key === undefined ? undefined : recordLineCheck(key));
    }
    return checks.get(folder);
  };
  return files.map((file) => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new PermlearnError('usage', `cannot read record ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_RECORD_BYTES) throw new PermlearnError('usage', `${file} is ${size} bytes, more than a record can be (${MAX_RECORD_BYTES})`);
      const buf = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const n = readSync(fd, buf, at, size - at, at);
        if (n === 0) break;
        at += n;
      }
      return parseRecordFile(buf.toString('utf8', 0, at), file, checkFor(path.dirname(file)));
    } finally {
      closeSync(fd);
    }
  });
}
