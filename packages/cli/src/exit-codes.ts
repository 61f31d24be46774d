// permlearn's documented exit codes (README "Exit codes").
import { PermlearnError, ProfileError, type LearnStatus } from '@permlearn/core';

export const EXIT = {
  /** Learned and verified. */
  ok: 0,
  /** A bug in permlearn. */
  internal: 1,
  /** Bad arguments, a path that is not Node, refusing to overwrite a file. */
  usage: 2,
  /** The app failed for a reason that is not a permission (or never became ready). */
  appFailed: 3,
  /** Learning made no progress, or --max-runs was reached. */
  noProgress: 4,
  /** Learned, but the verification run with exactly those flags failed. */
  verifyFailed: 5,
  /** The app needs something no flag can grant (fsync, symlink, inspector before 24 ...). */
  ungrantable: 6,
  /** `permlearn check`: the app needs grants the committed profile lacks (with --strict: or it holds grants
   *  nothing asked for). */
  checkFailed: 7,
  /** The app needs a grant broader than any profile may hold (\`/\`, a top-level folder, the home folder,
   *  above the project, a '*' in a name); \`--accept-broad\` accepts one explicitly. */
  tooBroad: 8,
  /** A saved profile that cannot be used: not JSON, malformed, or inconsistent (a grant's flag that is
   *  not its path, stored flags that are not its grants'). */
  badProfile: 9,
  /** The environment is unusable: no writable temporary folder ($TMPDIR). */
  environment: 10,
  /** A Node child of the app was started without grants the app was given (its parent rebuilt its
   *  execArgv), and no way of passing the flags reaches it. */
  childLostGrants: 11,
  /** Interrupted (Ctrl-C, SIGTERM, SIGHUP). */
  interrupted: 130,
} as const;

export function exitCodeOf(status: LearnStatus): number {
  switch (status) {
    case 'verified':
      return EXIT.ok;
    case 'app-failed':
      return EXIT.appFailed;
    case 'no-progress':
    case 'run-limit':
      return EXIT.noProgress;
    case 'verify-failed':
      return EXIT.verifyFailed;
    case 'ungrantable':
      return EXIT.ungrantable;
    case 'too-broad':
      return EXIT.tooBroad;
    case 'child-lost-grants':
      return EXIT.childLostGrants;
  }
}

/** The exit code for an error thrown out of a command. */
export function exitCodeOfError(err: unknown): number {
  if (err instanceof ProfileError) return EXIT.badProfile;
  if (!(err instanceof PermlearnError)) return EXIT.internal;
  switch (err.kind) {
    case 'usage':
      return EXIT.usage;
    case 'too-broad':
      return EXIT.tooBroad;
    case 'environment':
      return EXIT.environment;
    case 'internal':
      return EXIT.internal;
  }
}

/**
 * What to say about an error thrown out of a command (or out of one app of several), and its exit code:
 * the message of an error permlearn meant, the stack of anything else (a bug).
 */
export function describeError(err: unknown): { code: number; message: string } {
  const known = err instanceof PermlearnError && err.kind !== 'internal';
  return { code: exitCodeOfError(err), message: known ? err.message : `internal error: ${(err as Error)?.stack ?? String(err)}` };
}
