// Is a call site a read or a stat of one file (readFile, open, createReadStream, stat, access, exists)
// inside a `try` block that has a `catch`, in the same function? A read the app makes there is one whose
// failure it meant to handle (an optional override file, a config search that skips a file it cannot
// read), and an audit or observe run cannot see the catch: it allows the read, so the catch never runs.
// Such a read is only a candidate for tightening: the verification run (or a trial) decides whether the
// app does without it. A stat, access or exists counts only in a try whose catch is empty (a search
// that ignores what it cannot see): a test runner stats each test file in a try that returns, and goes
// on to need them. Not readdir (a folder listed is what the app goes on to use); the model asks only
// about paths that are files. Nor a read whose catch throws, exits or sets process.exitCode: the app
// reports that failure. A wrong candidate costs runs, never a grant. Parsed with acorn, once per file;
// a file acorn cannot read (TypeScript, a syntax it does not know) answers no: the grant stays.
//
// The read may sit in a helper with no try of its own (detect-libc's `readFileSync(path)` opens and
// reads a few bytes; its caller holds the try). The recorder sends the app's frames above the call
// site (Denial.callers, innermost first); the error passes up them until a frame's call sits in a try
// of its own function, and that try decides, by the same rules. A frame that is not a call (or an
// await) in a source acorn reads ends the walk: no. A frame resumed after an await (the fs.promises
// forms, seen when their promise settles) is named by the `await` of the read.
//
// The same walk answers the opposite question (`stops`): the try that catches first throws or exits,
// so it lets through only the failures it expects (`ENOENT`). A lookup of a missing path there fails
// the app once denied, whatever the run that let it through saw.
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
  /** The catch clause throws, calls process.exit() or sets process.exitCode, outside any function it defines. */
  stops: boolean;
  /** It stops by throwing only (a rethrow of what it does not expect): a try further out may still catch it. */
  throwsOnly: boolean;
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
  /** Every call, `new` and `await`: where V8 can name a caller's frame. */
  calls: Span[];
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
  return word !== undefined && (CONTENT_READS.has(word) || PROBES.has(word) || word === 'await');
}

type Callee = Node & { name?: string; property?: Node & { name?: string }; computed?: boolean };

/** The fs function a call's callee names (`readFile` in `fs.promises.readFile`), if it is one of those above. */
function readName(callee: Callee | undefined): string | undefined {
  if (!callee) return undefined;
  const named = callee.type === 'Identifier' ? callee : callee.type === 'MemberExpression' && !callee.computed ? callee.property : undefined;
  const name = named?.type === 'Identifier' ? named.name : undefined;
  return name !== undefined && (CONTENT_READS.has(name) || PROBES.has(name)) ? name : undefined;
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
  const handlers: { start: number; end: number; body: { body: unknown[] } }[] = [];
  // Functions declared by name in the file: a catch that calls one that exits (terser's `fatal(ex)`)
  // exits too. By name alone, so a name declared twice counts only if every declaration exits.
  const declared = new Map<string, unknown[]>();
  const functions: Span[] = [];
  const reads: Call[] = [];
  const calls: Span[] = [];
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
      handlers.push({ start: block.start, end: block.end, body: handler.body });
    }
    if (n.type === 'CallExpression' || n.type === 'NewExpression' || n.type === 'AwaitExpression') calls.push({ start: n.start, end: n.end });
    if (n.type === 'AwaitExpression') {
      // A frame resumed after an await (a promise's rejection) is named by the `await`: the read it awaits.
      const name = readName(
        (n.argument as Node & { type: string }).type === 'CallExpression' ? ((n.argument as Node & { callee: Node }).callee as Callee) : undefined,
      );
      if (name !== undefined) reads.push({ start: n.start, end: n.start + 'await'.length, probe: PROBES.has(name) });
    }
    if (n.type === 'CallExpression') {
      // V8 names a call by the position of the called name: `readFileSync` in `fs.readFileSync(p)`.
      const callee = n.callee as Callee;
      const name = readName(callee);
      const named = callee.type === 'Identifier' ? callee : callee.property!;
      if (name !== undefined) reads.push({ start: named.start, end: named.end, probe: PROBES.has(name) });
    }
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression')
      functions.push({ start: n.start, end: n.end });
    if (n.type === 'FunctionDeclaration') {
      const id = n.id as (Node & { name?: string }) | null;
      if (id?.name) declared.set(id.name, [...(declared.get(id.name) ?? []), n.body]);
    }
    // `let runtimeError = function (msg) { … process.exitCode = 1; }` (ejs's CLI), or an arrow function.
    if (n.type === 'VariableDeclarator') {
      const id = n.id as (Node & { name?: string }) | null;
      const init = n.init as (Node & { body?: unknown }) | null;
      if (id?.type === 'Identifier' && id.name && (init?.type === 'FunctionExpression' || init?.type === 'ArrowFunctionExpression'))
        declared.set(id.name, [...(declared.get(id.name) ?? []), init.body]);
    }
    for (const key of Object.keys(n)) if (key !== 'type' && key !== 'start' && key !== 'end' && key !== 'loc') visit(n[key]);
  };
  visit(tree);
  const verdicts = new Map<string, ReturnType<typeof stopsIn>>();
  const called = (name: string): ReturnType<typeof stopsIn> => {
    const bodies = declared.get(name);
    if (bodies === undefined) return false;
    if (!verdicts.has(name)) {
      verdicts.set(name, false); // while it is worked out: a function that calls itself adds nothing
      const each = bodies.map((b) => stopsIn(b, called));
      verdicts.set(name, each.every((v) => v === 'exit') ? 'exit' : each.every((v) => v !== false) ? 'throw' : false);
    }
    return verdicts.get(name)!;
  };
  for (const h of handlers) {
    const how = stopsIn(h.body, called);
    guarded.push({ start: h.start, end: h.end, ignores: h.body.body.length === 0, stops: how !== false, throwsOnly: how === 'throw' && onlyRethrows(h.body) });
  }
  return { guarded, functions, reads, calls };
}

/** Does this catch body throw, call process.exit() or set process.exitCode, outside the functions it defines?
 *  'exit' when it ends the process (whatever else it does), 'throw' when it only throws, false when neither. */
function stopsIn(body: unknown, calls: (name: string) => 'exit' | 'throw' | false = () => false): 'exit' | 'throw' | false {
  let stops = false;
  let exits = false;
  const visit = (node: unknown): void => {
    if (exits || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const n = node as Node & Record<string, unknown>;
    if (typeof n.type !== 'string') return;
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression' || n.type === 'ClassBody') return;
    if (n.type === 'ThrowStatement') {
      stops = true;
      visit(n.argument);
      return;
    }
    // `if (e.code !== 'ENOENT' && e.code !== 'ERR_ACCESS_DENIED') throw e`: what this branch does, a
    // permission-model denial never reaches (browserslist's config search lets denials through).
    if (n.type === 'IfStatement' && excludesDenial(n.test)) {
      visit(n.alternate);
      return;
    }
    // process.exit(…), or process.exitCode = … (the app ends with that code once it is done).
    const member = (m: unknown, name: string): boolean => {
      const e = m as (Node & { object?: Node & { name?: string }; property?: Node & { name?: string }; computed?: boolean }) | undefined;
      return e?.type === 'MemberExpression' && !e.computed && e.property?.name === name && e.object?.type === 'Identifier' && e.object.name === 'process';
    };
    if ((n.type === 'CallExpression' && member(n.callee, 'exit')) || (n.type === 'AssignmentExpression' && member(n.left, 'exitCode'))) {
      exits = true;
      return;
    }
    // A call of a function of the file's own that exits or throws (`fatal(ex)`).
    const callee = n.type === 'CallExpression' ? (n.callee as Node & { name?: string }) : undefined;
    if (callee?.type === 'Identifier' && callee.name !== undefined) {
      const how = calls(callee.name);
      if (how === 'exit') {
        exits = true;
        return;
      }
      if (how === 'throw') stops = true;
    }
    for (const key of Object.keys(n)) if (key !== 'type' && key !== 'start' && key !== 'end' && key !== 'loc') visit(n[key]);
  };
  visit(body);
  return exits ? 'exit' : stops ? 'throw' : false;
}

/**
 * A catch body that does nothing but choose between throwing and returning a plain value (`if (er.code
 * === 'EACCES') return false; throw er`): what it does not expect goes on up unchanged. One that does work
 * of its own first (mocha's `done(err)`, which fails the test) is not.
 */
function onlyRethrows(body: unknown): boolean {
  const plain = (e: unknown): boolean => {
    const n = e as (Node & { type: string }) | null | undefined;
    return n === null || n === undefined || n.type === 'Literal' || n.type === 'Identifier';
  };
  const ok = (node: unknown): boolean => {
    const n = node as (Node & Record<string, unknown>) | null | undefined;
    if (n === null || n === undefined) return true;
    switch (n.type) {
      case 'BlockStatement':
        return (n.body as unknown[]).every(ok);
      case 'IfStatement':
        return ok(n.consequent) && ok(n.alternate);
      case 'ReturnStatement':
        return plain(n.argument);
      case 'ThrowStatement':
      case 'EmptyStatement':
        return true;
      default:
        return false;
    }
  };
  return ok(body);
}

/** A test that is false whenever the error's code is ERR_ACCESS_DENIED: `x !== 'ERR_ACCESS_DENIED'`, alone or in a chain of `&&`. */
function excludesDenial(test: unknown): boolean {
  const t = test as (Node & { operator?: string; left?: Node & { value?: unknown }; right?: Node & { value?: unknown } }) | null;
  if (!t) return false;
  if (t.type === 'LogicalExpression' && t.operator === '&&') return excludesDenial(t.left) || excludesDenial(t.right);
  if (t.type !== 'BinaryExpression' || (t.operator !== '!==' && t.operator !== '!=')) return false;
  const denied = (side: (Node & { value?: unknown }) | undefined) => side?.type === 'Literal' && side.value === 'ERR_ACCESS_DENIED';
  return denied(t.left) || denied(t.right);
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

/** How many frames above the call site are followed (the recorder sends 4). */
const MAX_CALLERS = 4;

interface Source {
  text: string;
  lineStarts: number[];
}

/** Where a read's failure is caught: the try that catches it first, in the read's own frame (0) or a caller's. */
interface Catcher {
  frame: number;
  ignores: boolean;
  stops: boolean;
  /** The read is a stat-like call. */
  probe: boolean;
}

export interface CatchProbe {
  /** Is the read at `site` one whose failure the app meant to handle (see the top of this file)? */
  guarded(site: string, callers?: readonly string[]): boolean;
  /**
   * Does the try that first catches the read's failure throw or exit in its catch? Such a catch lets
   * through only the failures it knows (`ENOENT`, so a missing file is fine) and stops on the rest,
   * which a denial is: a lookup made there, of a path that does not exist, is one the app fails
   * without under the permission model.
   */
  stops(site: string, callers?: readonly string[]): boolean;
  /**
   * Is the read at `site` a call no try catches, in its own function or the frames above it that are
   * known? Only a site whose source is read and whose frames all name calls can answer yes: an `fs.existsSync`
   * there is a lookup whose denial (which it throws, where "not found" is `false`) stops the app.
   */
  uncaught(site: string, callers?: readonly string[]): boolean;
}

/** Both questions about a read's call site, sharing the sources read and the trees parsed. */
export function createCatchProbe(): CatchProbe {
  const sources = new Map<string, Source | undefined>();
  const files = new Map<string, Parsed | undefined>();
  const sourceOf = (file: string): Source | undefined => {
    if (!sources.has(file)) {
      const text = readSource(file);
      sources.set(file, text === undefined ? undefined : { text, lineStarts: lineStartsOf(text) });
    }
    return sources.get(file);
  };
  const parsedOf = (file: string, source: Source): Parsed | undefined => {
    if (!files.has(file)) files.set(file, parseFile(source.text));
    return files.get(file);
  };
  const hasTry = (source: Source | undefined): boolean => source !== undefined && source.text.includes('try');
  /** The source offset of a site, or undefined. */
  const offsetOf = (at: { line: number; col: number }, source: Source): number | undefined =>
    at.line < 1 || at.line > source.lineStarts.length ? undefined : source.lineStarts[at.line - 1]! + at.col - 1;

  /** A caller's frame as its parsed source, its offset and its function's start, when the frame names a
   *  call in its own function (otherwise the stack is not this source's). */
  const frameAt = (frame: string): { parsed: Parsed; pos: number; fn: number } | undefined => {
    const up = splitSite(frame);
    const upSource = up && sourceOf(up.file);
    const pos = up && upSource ? offsetOf(up, upSource) : undefined;
    const parsed = up && upSource && pos !== undefined ? parsedOf(up.file, upSource) : undefined;
    if (!parsed || pos === undefined) return undefined;
    const fn = innermostFunction(parsed, pos);
    return parsed.calls.some((c) => within(c, pos) && c.start >= fn) ? { parsed, pos, fn } : undefined;
  };

  /** The try that catches the read's failure first, or undefined when none is seen (or the site is no read). */
  const catcherOf = (site: string, callers: readonly string[]): Catcher | undefined => {
    const at = splitSite(site);
    if (!at) return undefined;
    const source = sourceOf(at.file);
    if (!source) return undefined;
    const pos = offsetOf(at, source);
    if (pos === undefined || !namesRead(source.text, pos)) return undefined;
    // A try is spelled `try` in its source (a keyword cannot be written with escapes): with none in the
    // read's file or its callers' files there is no catcher, and nothing needs parsing.
    if (!hasTry(source) && !callers.slice(0, MAX_CALLERS).some((frame) => hasTry(sourceOf(splitSite(frame)?.file ?? '')))) return undefined;
    const parsed = parsedOf(at.file, source);
    if (!parsed) return undefined;
    const call = parsed.reads.find((s) => within(s, pos));
    if (!call) return undefined;
    const fnStart = innermostFunction(parsed, pos);
    // A catch that only throws (`if (er.code === 'EACCES') return false; throw er`) hands the failure on
    // to the try around it, or to the calling frame's (isexe's, inside which's empty catch): that one decides.
    let rethrown: Catcher | undefined;
    const decide = (frame: number, tries: readonly Guarded[]): Catcher | undefined => {
      const inward = [...tries].sort((x, y) => y.start - x.start);
      for (const [k, t] of inward.entries()) {
        // In the read's own function, any ignoring try around it makes it ignored.
        const ignores = frame === 0 ? inward.slice(k).some((g) => g.ignores) : t.ignores;
        const c = { frame, ignores, stops: t.stops, probe: call.probe };
        if (!t.throwsOnly || ignores) return c;
        rethrown ??= c;
      }
      return undefined;
    };
    const own = decide(
      0,
      parsed.guarded.filter((g) => within(g, pos) && g.start > fnStart),
    );
    if (own) return own;
    // No try in the read's own function (or one that throws it on): the error leaves it, to the frame that called it.
    for (const [i, frame] of callers.slice(0, MAX_CALLERS).entries()) {
      const up = frameAt(frame);
      if (!up) return rethrown;
      const c = decide(
        i + 1,
        up.parsed.guarded.filter((g) => within(g, up.pos) && g.start > up.fn),
      );
      if (c) return c;
    }
    // Thrown on past every frame known: it stops the app, as far as anyone can tell.
    return rethrown;
  };

  return {
    guarded: (site, callers = []) => {
      const c = catcherOf(site, callers);
      if (!c) return false;
      // The read's own try: any catch for a content read (as before callers were known), an empty one for a stat.
      if (c.frame === 0) return c.ignores || (!c.probe && !c.stops);
      return !c.stops && (c.ignores || !c.probe);
    },
    stops: (site, callers = []) => catcherOf(site, callers)?.stops === true,
    uncaught: (site, callers = []) => {
      if (catcherOf(site, callers)) return false;
      const at = splitSite(site);
      const source = at && sourceOf(at.file);
      const pos = at && source ? offsetOf(at, source) : undefined;
      if (!at || !source || pos === undefined || !namesRead(source.text, pos)) return false;
      const frames = callers.slice(0, MAX_CALLERS);
      if (!hasTry(source) && !frames.some((frame) => hasTry(sourceOf(splitSite(frame)?.file ?? '')))) return true;
      const parsed = parsedOf(at.file, source);
      if (!parsed || !parsed.reads.some((r) => within(r, pos))) return false;
      // Every frame must be one the walk can read (catcherOf returns nothing as well when one is not).
      return frames.every((frame) => frameAt(frame) !== undefined);
    },
  };
}

/** The guard question alone (see createCatchProbe). */
export function createGuardProbe(): (site: string, callers?: readonly string[]) => boolean {
  return createCatchProbe().guarded;
}

function within(s: Span, pos: number): boolean {
  return s.start <= pos && pos < s.end;
}

/** The start of the innermost function around `pos` (-1 at the top level). */
function innermostFunction(parsed: Parsed, pos: number): number {
  let fnStart = -1;
  for (const f of parsed.functions) if (within(f, pos) && f.start > fnStart) fnStart = f.start;
  return fnStart;
}
