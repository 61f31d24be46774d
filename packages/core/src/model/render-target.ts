// What a target Node can be given: the `--node-version` spec read as capabilities, the Node lines the
// facts were measured on, and the formats a target refuses outright (each format's refusal is its own,
// in render-formats.ts). Pure.
import { PermlearnError } from '../errors.js';
import { capabilitiesOf, MIN_MAJOR, parseNodeVersion, type Capabilities } from './node-versions.js';
import { OUTPUT_FORMATS, type RenderFormat } from './render-formats.js';

/** The Node lines whose behaviour the facts file measured; others are rendered like the line below. */
export const MEASURED_MAJORS: readonly number[] = [20, 22, 24, 26];

const VERSION_SPEC = /^v?(\d+)(?:\.(\d+)(?:\.(\d+))?)?$/;

/**
 * A target Node from `--node-version`: `26`, `22.13` or `v22.23.3`. Missing parts are 0, which picks
 * the spelling every release of that line accepts (`22` → `--experimental-permission`, an alias of
 * `--permission` from 22.13). Throws a usage error for anything else or a Node without the model.
 */
export function parseTargetVersion(spec: string): Capabilities {
  const m = VERSION_SPEC.exec(spec.trim());
  const version = m ? parseNodeVersion(`${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`) : undefined;
  if (!version) throw new PermlearnError('usage', `--node-version must look like 26, 22.13 or v22.23.3, got '${spec}'`);
  if (version.major < MIN_MAJOR) {
    throw new PermlearnError('usage', `Node ${version.raw} has no permission model; permlearn renders for Node ${MIN_MAJOR} or later`);
  }
  return capabilitiesOf(version);
}

/** Some Node line cannot use `format` at all (it has a `refusal`): the CLI probes the Node and asks before learning. */
export function formatRefusesSomeNode(format: RenderFormat): boolean {
  return OUTPUT_FORMATS[format].refusal !== undefined;
}

/** Throw a usage error when `format` cannot be rendered for `target` at all (before learning, in the CLI). */
export function assertFormatFor(format: RenderFormat, target: Capabilities): void {
  const refusal = OUTPUT_FORMATS[format].refusal?.(target);
  if (refusal !== undefined) throw new PermlearnError('usage', `--format ${format}: ${refusal}`);
}
