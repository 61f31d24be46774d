// Shared data shapes of the pure core. Findings are plain data; nothing here touches disk or processes.

/** The `permission` strings Node puts on ERR_ACCESS_DENIED errors and audit events, plus `Addon`. */
export const KNOWN_PERMISSIONS = [
  'FileSystemRead',
  'FileSystemWrite',
  'FileSystem',
  'ChildProcess',
  'WorkerThreads',
  'WASI',
  'Inspector',
  'OpenSSLStore',
  'Net',
  'FFI',
  'Addon',
] as const;
export type KnownPermission = (typeof KNOWN_PERMISSIONS)[number];

/** A denial's permission: one permlearn knows, `''` when Node's error named none, or `'unknown'` for a
 *  name permlearn does not know (a later Node's), kept as given in the denial's `rawPermission`. */
export type PermissionName = KnownPermission | '' | 'unknown';

const KNOWN: ReadonlySet<string> = new Set(KNOWN_PERMISSIONS);

/** A permission name from outside (the recorder, stderr, a record or profile file) read into the union. */
export function parsePermission(raw: string): { permission: PermissionName; rawPermission?: string } {
  return raw === '' || KNOWN.has(raw) ? { permission: raw as KnownPermission | '' } : { permission: 'unknown', rawPermission: raw };
}

/** How a permission is named to people: the name Node gave. */
export function permissionLabel(d: { permission: PermissionName; rawPermission?: string }): string {
  return d.rawPermission ?? d.permission;
}

/** How a profile was learned: `audit` (one --permission-audit run first), `observe` (one run with the
 *  app root readable, keeping the modules it loaded) or `rerun` (enforce runs only). `--strategy`
 *  also takes `auto`, which picks one of these (config.ts STRATEGIES). */
export const LEARN_STRATEGIES = ['audit', 'observe', 'rerun'] as const;
export type Strategy = (typeof LEARN_STRATEGIES)[number];

/** A grantable scope, named as `process.permission.has()` names it. */
export type Scope = 'fs.read' | 'fs.write' | 'child' | 'worker' | 'addon' | 'wasi' | 'inspector' | 'openssl.store' | 'net' | 'ffi';

export type FsScope = 'fs.read' | 'fs.write';

/** A scope granted whole, with no path. */
export type CapabilityScope = Exclude<Scope, FsScope>;

/** Where permlearn saw a denial. */
export type DenialSource =
  /** the error escaped the app: an uncaught exception or unhandled rejection (main thread or Worker) */
  | 'uncaught'
  /** the app caught the error and printed it with console.* */
  | 'logged'
  /** published on a node:permission-model:* diagnostics channel (24+), whether or not the app caught it */
  | 'channel'
  /** passed through the public fs API and was caught by the app (watched on Node before 24) */
  | 'caught'
  /** not a denial: a module the app loaded, a file it read or a capability it used during an observe
   *  run, under a temporary wide grant */
  | 'loaded'
  /** parsed from stderr because the recorder was not running */
  | 'stderr';

/** One observed denial, as reported by the recorder or the stderr parser. */
export interface Denial {
  permission: PermissionName;
  /** The name Node gave, when permlearn does not know it (`permission` is then 'unknown'). */
  rawPermission?: string;
  /** The resource exactly as Node reported it (a path may be relative). */
  resource: string;
  /** `process.cwd()` when the denial happened, to resolve relative paths as Node did. */
  cwd?: string;
  /** The error code: ERR_ACCESS_DENIED, or ERR_DLOPEN_DISABLED for native addons. */
  code: string;
  /** The error message, which names the API for denials no flag can lift (fsync, symlink ...). */
  message?: string;
  source: DenialSource;
  /** Where in the app (or its dependencies) the call came from: `file:line:col`, if known. */
  site?: string;
  /** The app's frames above `site`, innermost first (a few at most), as the recorder saw the stack: a
   *  caller whose `try` catches what the call throws (FsProbe.guarded). Never a reason to grant. */
  callers?: string[];
  /** `main`, `worker`, or `child` (a Node process the app started). */
  thread?: 'main' | 'worker' | 'child';
  /** Who made the call: `name@version` of a dependency, or `app`. */
  by?: string;
  /** The call site relative to that package (or to the app's root). */
  at?: string;
  /** Whether the path existed when Node checked it (audit runs only, where the app may create it next). */
  existed?: boolean;
  /** Where the recorder saw the denial leave Node at the source: `process.dlopen` (an addon refused),
   *  `WASI` (the constructor refused) or `require` (a denial inside a require() call): whoever catches
   *  it there is a loader, not the app's own code. */
  via?: string;
  /** An addon refused (`via` process.dlopen): the absolute path of its file, when require() was loading
   *  it. The newest builds' resolver checks that file's read in enforce mode (addon-read.ts). */
  addonFile?: string;
  /** `argument`: Node's error named no resource; `resource` is the path argument of the fs call it came
   *  out of, as the recorder's wrapper of that call saw it. */
  resourceFrom?: 'argument';
  /** A check Node's module loader made (a package scope, a resolution), not an fs call of the app (24+ channels). */
  loader?: true;
  /** The fs function the denied call went through (`mkdirSync`, `open` ...), when the recorder's fs
   *  wrapper saw the denial leave it (20/22, and 24+ in observe runs): a denied `mkdir` is a folder
   *  the app creates. */
  call?: string;
  /** The read's call site sits in a `try` block with a `catch` of its own function (FsProbe.guarded):
   *  a read whose failure the app meant to handle, which an audit or observe run cannot see it do. */
  guarded?: true;
  /** `has`: the check was the app's own process.permission.has() asking whether it may. A has() that
   *  says no is an answer the app handles (it never throws), so the check shows no need by itself. */
  asked?: 'has';
  /** How many times it was seen (repeated checks of the same resource); 1 when absent. */
  hits?: number;
  /** When it was first and last seen (epoch ms), as the recorder saw it. */
  time?: number;
  lastTime?: number;
  /** In a Node child: the permission flags it was really started with (its own execArgv, and
   *  NODE_OPTIONS), as its recorder read them at start-up. Explains a denial the app's grants cover. */
  given?: ChildFlags;
}

/** The permission flags of a Node child, from its own execArgv and from NODE_OPTIONS. */
export interface ChildFlags {
  execArgv: string[];
  nodeOptions: string[];
}

/** What kind of path a file-system grant names, as Node will see it at start-up. */
export type PathKind =
  /** an existing regular file (or anything not a directory): exact match */
  | 'file'
  /** an existing directory: Node grants its whole subtree */
  | 'dir'
  /** does not exist: an exact-path grant */
  | 'missing'
  /** a directory the app creates at run time: rendered `dir/*` so the subtree is covered once it exists */
  | 'created-dir'
  /** a string prefix (`/tmp/app-` from an mkdtemp template): rendered `prefix*` */
  | 'prefix';

/** What the pure core may ask about the file system (injected, so tests can supply a fake). */
export interface FsProbe {
  /** 'file' | 'dir' | 'missing', following symlinks as Node's start-up check does. */
  kind(absPath: string): 'file' | 'dir' | 'missing';
  /** What the path was before the first learning run, when that differs from now (the runner keeps a
   *  snapshot; see model/initial-state.ts). Absent: the same as `kind`. */
  initialKind?(absPath: string): 'file' | 'dir' | 'missing';
  /** The user's home directory, which no grant may cover. */
  homedir: string;
  /** Does this call site (`file:line:col`) sit inside a `try` block with a `catch`, in its own function?
   *  The runner parses the source (runner/guarded-site.ts); absent: never. */
  guarded?(site: string, callers?: readonly string[]): boolean;
  /** Does the try that first catches a read's failure at this call site (or in the frames above it)
   *  throw or exit in its catch? A lookup of a missing path there fails the app once it is denied
   *  (runner/guarded-site.ts); absent: never. */
  catchStops?(site: string, callers?: readonly string[]): boolean;
  /** Is the read at this call site one no try catches, as far as its source and known callers show
   *  (runner/guarded-site.ts)? Absent, or not sure: no. */
  uncaught?(site: string, callers?: readonly string[]): boolean;
  /** Files under a directory that look like secrets (`.env`, keys, credentials), relative to it. */
  secretsUnder?(absDir: string): string[];
}
