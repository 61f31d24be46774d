// Fallback: read denials out of the error blocks Node prints on stderr.
// Only the `{ ... }` property block is trusted; the source excerpt and stack frames change between releases.
import { parsePermission, type Denial } from './types.js';

const CODE_LINE = /^( +)code: '(ERR_ACCESS_DENIED|ERR_DLOPEN_DISABLED)',?$/;
const PROP_LINE = /^( +)([A-Za-z_$][\w$]*): (.*?),?$/;
const HEADER_LINE = /^\s*(?:[A-Za-z]*Error(?: \[[A-Z_]+\])?|errno: Error): (.*)$/;

/** Decode a JavaScript string literal as util.inspect prints it ('..', "..", or `..`). */
export function decodeJsString(literal: string): string | undefined {
  const quote = literal[0];
  if ((quote !== "'" && quote !== '"' && quote !== '`') || literal.length < 2 || literal.at(-1) !== quote) {
    return undefined;
  }
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    switch (next) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '0':
        out += '\0';
        break;
      case 'x': {
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      }
      case 'u': {
        if (body[i + 1] === '{') {
          const end = body.indexOf('}', i);
          out += String.fromCodePoint(parseInt(body.slice(i + 2, end), 16));
          i = end;
        } else {
          out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16));
          i += 4;
        }
        break;
      }
      case undefined:
        return undefined;
      default:
        out += next;
    }
  }
  return out;
}

interface Block {
  indent: number;
  props: Map<string, string>;
  message?: string;
  /** The line that opens the block: the last stack frame or header of an error, ending in `{`. */
  opener: string;
}

function readBlock(lines: readonly string[], at: number, indent: number): Block {
  const props = new Map<string, string>();
  const take = (line: string): boolean => {
    const m = PROP_LINE.exec(line);
    if (!m || m[1]!.length !== indent) return false;
    props.set(m[2]!, m[3]!);
    return true;
  };
  let start = at;
  while (start > 0 && take(lines[start - 1]!)) start--;
  for (let i = at; i < lines.length && take(lines[i]!); i++);
  // The message is on the nearest header line above the block (nested blocks have `errno: Error: ...`).
  let message: string | undefined;
  for (let i = start - 1; i >= 0 && i >= start - 80; i--) {
    const m = HEADER_LINE.exec(lines[i]!);
    if (m) {
      message = m[1];
      break;
    }
  }
  return { indent, props, message, opener: lines[start - 1] ?? '' };
}

/** Every denial block in a stderr text, outermost errors merged with their nested `errno`. */
export function parseStderrDenials(stderr: string): Denial[] {
  const lines = stderr.split(/\r?\n/);
  const blocks: Block[] = [];
  lines.forEach((line, i) => {
    const m = CODE_LINE.exec(line);
    if (!m) return;
    const block = readBlock(lines, i, m[1]!.length);
    // An error's properties follow its header or last stack frame (`    at ... {`); a `{` alone on
    // its line opens a plain object the app printed, which only looks like a denial.
    if (block.opener.trim() !== '{') blocks.push(block);
  });
  const out: Denial[] = [];
  for (const [index, b] of blocks.entries()) {
    const str = (key: string): string | undefined => {
      const raw = b.props.get(key);
      return raw === undefined ? undefined : decodeJsString(raw);
    };
    const code = str('code')!;
    const permission = str('permission');
    const base = { code, source: 'stderr' as const, ...(b.message ? { message: b.message } : {}) };
    if (code === 'ERR_DLOPEN_DISABLED') {
      out.push({ ...base, permission: 'Addon', resource: '' });
    } else if (permission !== undefined) {
      out.push({ ...base, ...parsePermission(permission), resource: str('resource') ?? '' });
    } else if (str('syscall') === 'getaddrinfo' || str('syscall')?.startsWith('query')) {
      out.push({ ...base, permission: 'Net', resource: str('hostname') ?? '' });
    } else if (blocks[index - 1]?.props.has('permission') && blocks[index - 1]!.indent > b.indent) {
      // The outer half of a network error whose nested errno block was already read.
      continue;
    } else if (str('address') !== undefined) {
      out.push({ ...base, permission: 'Net', resource: str('address')! });
    } else {
      out.push({ ...base, permission: '', resource: '' });
    }
  }
  return out;
}

/** Node 20's abort on a grant listed twice. */
export function isDuplicateGrantAbort(stderr: string): boolean {
  return stderr.includes('Assertion failed: !path_prefix.empty()');
}
