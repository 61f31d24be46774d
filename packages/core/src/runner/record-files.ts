// Reading record files from disk: files named on the command line, or every record in a folder.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { PermlearnError } from '../errors.js';
import { parseRecordFile, type RecordFile } from '../model/records.js';

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
      const found = readdirSync(p).filter((n) => /^record-.*\.ndjson$/.test(n)).sort().map((n) => path.join(p, n));
      if (found.length === 0) throw new PermlearnError('usage', `--records ${g}: the folder holds no record files (record-*.ndjson)`);
      out.push(...found);
    } else out.push(p);
  }
  return [...new Set(out)];
}

/** Read and parse each record file (a file over MAX_RECORD_BYTES is refused). */
export function readRecordFiles(files: readonly string[]): RecordFile[] {
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
      return parseRecordFile(buf.toString('utf8', 0, at), file);
    } finally {
      closeSync(fd);
    }
  });
}
