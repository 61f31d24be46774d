// The JSON Schema shipped for permlearn.config.json (schema/permlearn.config.schema.json) against the
// parser that really reads the file (core's parseConfig): the same keys, the same choices, and the same
// verdict on every example and on a table of values at and beyond each rule's edge.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { CAUGHT_POLICIES, CONFIG_KEYS, CONFIG_READINESS_KEYS, GRANULARITIES, NUMBER_RANGES, RENDER_FORMATS, STRATEGIES, parseConfig } from '@permlearn/core';
import { describe, expect, it } from 'vitest';

type Prop = { type?: string; minimum?: number; maximum?: number; enum?: string[]; examples?: unknown[]; default?: unknown; properties?: Record<string, Prop> };
const schemaFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'permlearn.config.schema.json');
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Prop & { properties: Record<string, Prop> };
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, formats: { regex: (s: string) => isRegExp(s) } });
const validate = ajv.compile(schema);

function isRegExp(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

function parses(config: unknown): boolean {
  try {
    parseConfig(config, 'permlearn.config.json');
    return true;
  } catch {
    return false;
  }
}

/** A value of another JSON type than the schema asks for. */
const wrongType: Record<string, unknown> = { string: 42, integer: 'three', number: 'three', boolean: 'yes', array: 'x', object: 1 };

describe('the config JSON Schema', () => {
  it('has exactly the keys the parser knows, readiness too', () => {
    expect(Object.keys(schema.properties).sort()).toEqual([...CONFIG_KEYS].sort());
    expect(Object.keys(schema.properties.readiness!.properties!).sort()).toEqual([...CONFIG_READINESS_KEYS].sort());
  });

  it.each([
    ['granularity', GRANULARITIES],
    ['strategy', STRATEGIES],
    ['caught', CAUGHT_POLICIES],
    ['format', RENDER_FORMATS],
  ])('%s offers exactly the choices the parser accepts', (key, choices) => {
    expect(schema.properties[key]!.enum).toEqual([...choices]);
  });

  const leaves: [string, Prop, (v: unknown) => Record<string, unknown>][] = [
    ...Object.entries(schema.properties)
      .filter(([k]) => k !== 'readiness')
      .map(([k, p]): [string, Prop, (v: unknown) => Record<string, unknown>] => [k, p, (v) => ({ [k]: v })]),
    ...Object.entries(schema.properties.readiness!.properties!).map(([k, p]): [string, Prop, (v: unknown) => Record<string, unknown>] => [
      `readiness.${k}`,
      p,
      (v) => ({ readiness: { [k]: v } }),
    ]),
  ];

  it.each(leaves)('%s: its examples, default and choices are valid for both; a wrong type for neither', (_key, prop, wrap) => {
    const good = [...(prop.examples ?? []), ...(prop.default !== undefined ? [prop.default] : []), ...(prop.enum ?? [])];
    expect(good.length).toBeGreaterThan(0);
    for (const v of good) expect([validate(wrap(v)), parses(wrap(v))], JSON.stringify(wrap(v))).toEqual([true, true]);
    const bad = prop.enum ? 'not-a-choice' : wrongType[prop.type!];
    expect([validate(wrap(bad)), parses(wrap(bad))], JSON.stringify(wrap(bad))).toEqual([false, false]);
  });

  // Every number in the schema, and the parser's range for it.
  const numeric: [string, keyof typeof NUMBER_RANGES][] = [
    ['maxRuns', 'maxRuns'],
    ['maxRunTime', 'maxRunTime'],
    ['grace', 'grace'],
    ['readiness.timeout', 'timeout'],
    ['readiness.port', 'port'],
  ];

  it('checks the range of every number it holds', () => {
    expect(
      leaves
        .filter(([, p]) => p.type === 'number' || p.type === 'integer')
        .map(([k]) => k)
        .sort(),
    ).toEqual(numeric.map(([k]) => k).sort());
  });

  it.each(numeric)('%s: the range of the parser (%s), and the same verdict at and beyond its edges', (key, rangeKey) => {
    const range = NUMBER_RANGES[rangeKey];
    const [, prop, wrap] = leaves.find(([k]) => k === key)!;
    expect([prop.type, prop.minimum, prop.maximum]).toEqual([range.integer ? 'integer' : 'number', range.min, range.max]);
    const probes: [number, boolean][] = [
      [range.min, true],
      [range.max, true],
      [range.integer ? range.min - 1 : range.min / 2, false],
      [range.integer ? range.max + 1 : range.max * 1.5, false],
      [0, false],
      [-1, false],
    ];
    if (range.integer) probes.push([range.min + 0.5, false]);
    for (const [v, ok] of probes) expect([validate(wrap(v)), parses(wrap(v))], `${key}: ${v}`).toEqual([ok, ok]);
  });

  it.each([
    [{}, true],
    [{ entry: 'app.js', args: ['1'], readiness: { port: 3000, stdout: 'up', url: 'https://localhost/', timeout: 0.5 }, exercise: [] }, true],
    [{ command: ['npm', 'start'], maxRuns: 1, maxRunTime: 0.1, grace: 1 }, true],
    [{ readiness: {} }, true],
    [{ args: [] }, true],
    [{ bogus: 1 }, false],
    [{ readiness: { prot: 3000 } }, false],
    [{ readiness: [] }, false],
    [{ readiness: { port: 0 } }, false],
    [{ readiness: { port: 65536 } }, false],
    [{ readiness: { port: 80.5 } }, false],
    [{ readiness: { timeout: 0 } }, false],
    [{ readiness: { stdout: '(' } }, false],
    [{ readiness: { stdout: '' } }, false],
    [{ readiness: { url: 'ftp://host/' } }, false],
    [{ maxRuns: 0 }, false],
    [{ maxRuns: 1.5 }, false],
    [{ maxRunTime: 0 }, false],
    [{ grace: -1 }, false],
    [{ exercise: ['  '] }, false],
    [{ exercise: [1] }, false],
    [{ acceptBroad: [''] }, false],
    [{ command: [] }, false],
    [{ command: [''] }, false],
    [{ name: '' }, false],
    [{ entry: 'app.js', command: ['npm', 'start'] }, false],
    [{ args: ['x'], command: ['npm', 'start'] }, false],
  ])('%j: valid %s for both', (config, valid) => {
    expect([validate(config), parses(config)]).toEqual([valid, valid]);
  });
});
