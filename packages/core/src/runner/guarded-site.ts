// Is a call site a read or a stat of one file (readFile, open, createReadStream, stat, access, exists)
// inside a `try` block that has a `catch`, in the same function? A read the app makes there is one whose
// failure it meant to handle (an optional override file, a config search that skips a file it cannot
// read), and an audit or observe run cannot see the catch: it allows the read, so the catch never runs.
// Such a read is only a candidate for tightening: the verification run (or a trial) decides whether the
// app does without it. A stat, access or exists counts only in a try whose catch is empty (a search
// that ignores what it cannot see): a test runner stats each test file in a try that returns, and goes
// on to need them. Not readdir (a folder listed is what the app goes on to use); the model asks only
// about paths that are files. A wrong candidate costs runs, never a grant. Parsed with acorn, once per file; a file acorn cannot read (TypeScript, a
// syntax it does not know) answers no: the grant stays.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type Node } from 'acorn';

/** Larger sources are not parsed (a bundle): their sites answer no. */
const MAX_SOURCE = 4 * 1024 * 1024;

interface Span {
  start: number;
  end: number;
}

interface Guarded extends Span {
  /** The catch clause has no statement: the failure is ignored. */
  ignores: boolean;
}

interface Call extends Span {
  /** A stat-like call, which counts only where the failure is ignored. */
  probe: boolean;
}

/** What one file's tree says: the guarded spans (try blocks with a catch), the function spans, the fs calls. */
interface Parsed {
  guarded: Guarded[];
  functions: Span[];
  /** Calls of those fs functions, by the span of the called name. */
  reads: Call[];
}

/** The fs functions that read one file's content, and those that only look at it (the fs.promises forms have the same names). */
const CONTENT_READS = new Set(['readFile', 'readFileSync', 'open', 'openSync', 'createReadStream']);
const PROBES = new Set(['stat', 'statSync', 'lstat', 'lstatSync', 'access', 'accessSync', 'exists', 'existsSync']);

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function readSource(file: string): string | undefined {
  try {
    if (statSync(file).size > MAX_SOURCE) return undefined;
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Does one of the fs functions' names start at `pos`? Checked on the text first: most sites (a require()) are not, and need no parse. */
function namesRead(text: string, pos: number): boolean {
  const word = /^[A-Za-z]+/.exec(text.slice(pos, pos + 20))?.[0];
  return word !== undefined && (CONTENT_READS.has(word) || PROBES.has(word));
}

function parseFile(text: string): Parsed | undefined {
  let tree: Node;
  try {
    tree = parse(text, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true });
  } catch {
    try {
      tree = parse(text, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true });
    } catch {
      return undefined;
    }
  }
  const guarded: Guarded[] = [];
  const functions: Span[] = [];
  const reads: Call[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const n = node as Node & Record<string, unknown>;
    if (typeof n.type !== 'string') return;
    if (n.type === 'TryStatement' && n.handler) {
      const block = n.block as Node;
      const handler = n.handler as Node & { body: { body: unknown[] } };
      guarded.push({ start: block.start, end: block.end, ignores: handler.body.body.length === 0 });
    }
    if (n.type === 'CallExpression') {
      // V8 names a call by the position of the called name: `readFileSync` in `fs.readFileSync(p)`.
      const callee = n.callee as Node & { name?: string; property?: Node & { name?: string }; computed?: boolean };
      const named = callee.type === 'Identifier' ? callee : callee.type === 'MemberExpression' && !callee.computed ? callee.property : undefined;
      const name = named?.type === 'Identifier' ? named.name : undefined;
      if (name !== undefined && (CONTENT_READS.has(name) || PROBES.has(name))) reads.push({ start: named!.start, end: named!.end, probe: PROBES.has(name) });
    }
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression')
      functions.push({ start: n.start, end: n.end });
    for (const key of Object.keys(n)) if (key !== 'type' && key !== 'start' && key !== 'end' && key !== 'loc') visit(n[key]);
  };
  visit(tree);
  return { guarded, functions, reads };
}

/** `file:line:col` (1-based, as V8 names a call site; the file may be a file: URL) split, or undefined. */
function splitSite(site: string): { file: string; line: number; col: number } | undefined {
  const m = /^(.*):(\d+):(\d+)$/.exec(site);
  if (!m) return undefined;
  let file = m[1]!;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  return file.startsWith('/') ? { file, line: Number(m[2]), col: Number(m[3]) } : undefined;
}

/** A probe that answers, per call site, whether it sits in a guarded block of its own function; files are parsed once. */
export function createGuardProbe(): (site: string) => boolean {
  const sources = new Map<string, { text: string; lineStarts: number[] } | undefined>();
  const files = new Map<string, Parsed | undefined>();
  return (site) => {
    const at = splitSite(site);
    if (!at) return false;
    if (!sources.has(at.file)) {
      const text = readSource(at.file);
      sources.set(at.file, text === undefined ? undefined : { text, lineStarts: lineStartsOf(text) });
    }
    const source = sources.get(at.file);
    if (!source || at.line < 1 || at.line > source.lineStarts.length) return false;
    const pos = source.lineStarts[at.line - 1]! + at.col - 1;
    if (!namesRead(source.text, pos)) return false;
    if (!files.has(at.file)) files.set(at.file, parseFile(source.text));
    const parsed = files.get(at.file);
    if (!parsed) return false;
    const inside = (s: Span) => s.start <= pos && pos < s.end;
    const call = parsed.reads.find(inside);
    if (!call) return false;
    // The innermost function around the call: a try outside it guards the function's creation, not this call.
    let fnStart = -1;
    for (const f of parsed.functions) if (inside(f) && f.start > fnStart) fnStart = f.start;
    return parsed.guarded.some((g) => inside(g) && g.start > fnStart && (g.ignores || !call.probe));
  };
}
