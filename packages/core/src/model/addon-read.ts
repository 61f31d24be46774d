// The read of a native addon's own file. require() realpaths the file it resolves, and the newest builds
// check that as a read in enforce mode (node-versions.ts, resolverChecksAddonRead), a `.node` file
// included, which nothing else reads through the permission model: there --allow-addons alone is not
// enough. Node 24's audit mode refuses the addon (ERR_DLOPEN_DISABLED) and does not report that read,
// so an audit run that saw the addon refused would leave the read to the enforce runs: a failed
// verification and one run more. The recorder names the file of a refused process.dlopen when require()
// was loading that very file; on a build that checks the read, the read is planned with the addon, on
// the same evidence. Where the build does not check it, nothing is added (it would be a grant the app
// does without).
import type { Capabilities } from './node-versions.js';
import type { Denial } from './types.js';
import { resourcePath } from './paths/index.js';

/** The addon refusals of `denials` that name their file, each as the read of that file the resolver
 *  makes; none on a build whose resolver does not check it, nor where the run reported that read itself. */
export function addonFileReads(denials: readonly Denial[], caps: Capabilities): Denial[] {
  if (!caps.resolverChecksAddonRead) return [];
  const reported = new Set(denials.filter((d) => d.permission === 'FileSystemRead' && d.resource !== '').map((d) => resourcePath(d)));
  const out: Denial[] = [];
  for (const d of denials) {
    const file = d.permission === 'Addon' ? d.addonFile : undefined;
    if (file === undefined || reported.has(file)) continue;
    reported.add(file);
    out.push({
      permission: 'FileSystemRead',
      resource: file,
      code: 'ERR_ACCESS_DENIED',
      source: d.source,
      // Where require() was called, as for the addon: its loader (or the app) asked for both.
      ...(d.site !== undefined ? { site: d.site } : {}),
      ...(d.thread !== undefined ? { thread: d.thread } : {}),
      ...(d.cwd !== undefined ? { cwd: d.cwd } : {}),
      via: 'require',
      message: "the resolver's read of the native addon's file, checked with the addon on this Node",
    });
  }
  return out;
}

/** A priming run saw an addon refused without its file named, on a build that checks that file's read:
 *  a read the run's grants cannot hold, so a folded verification that fails may fail for it. */
export function addonReadUnplanned(denials: readonly Denial[], caps: Capabilities): boolean {
  return caps.resolverChecksAddonRead && denials.some((d) => d.permission === 'Addon' && d.addonFile === undefined);
}
