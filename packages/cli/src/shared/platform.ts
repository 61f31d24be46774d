// Where permlearn can run. It stops an app by signalling its POSIX process group and runs exercise and
// start commands through /bin/sh; Windows has neither.

/** Why permlearn cannot learn or check apps on this platform, or undefined when it can. */
export function unsupportedPlatform(platform: NodeJS.Platform): string | undefined {
  if (platform === 'win32') {
    return 'Windows is not supported: permlearn stops an app through its POSIX process group and runs commands with /bin/sh. Run it under WSL 2 or in a Linux container (render and explain work anywhere)';
  }
  return undefined;
}
