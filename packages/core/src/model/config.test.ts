import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText, resolveConfig } from './config.js';

const SRC = 'permlearn.config.json';

describe('parseConfig: accepted', () => {
  it.each([
    [{}],
    [{ $schema: 'x', entry: 'server.js', args: ['3000'] }],
    [{ command: ['npm', 'start'], exercise: ['curl -fsS http://127.0.0.1:3000/'] }],
    [{ entry: 'a.js', readiness: { port: 3000 }, granularity: 'file', strategy: 'rerun', minimize: true }],
    [{ entry: 'a.js', readiness: { stdout: '^listening', url: 'http://127.0.0.1:1/', timeout: 2.5 } }],
    [
      {
        entry: 'a.js',
        maxRuns: 10,
        maxRunTime: 5,
        grace: 0.5,
        profile: 'p.json',
        format: 'json',
        relative: true,
        out: 'o',
        node: 'node',
        cwd: '.',
        root: '..',
        name: 'api',
      },
    ],
  ])('%j', (data) => {
    const config = parseConfig(data, SRC);
    expect(config).not.toHaveProperty('$schema');
    expect({ ...config, $schema: (data as { $schema?: string }).$schema }).toMatchObject(data);
  });
});

describe('parseConfig: one line naming the key', () => {
  it.each([
    [[], /must be a JSON object, got an array/],
    [null, /must be a JSON object, got null/],
    [{ entyr: 'a.js' }, /unknown key "entyr" \(did you mean "entry"\?\)/],
    [{ colour: true }, /unknown key "colour" \(known keys: name, entry, args,/],
    [{ 'max-runs': 3 }, /unknown key "max-runs" \(did you mean "maxRuns"\?\)/],
    [{ entry: 3 }, /"entry" must be a non-empty string, got number 3/],
    [{ entry: '' }, /"entry" must be a non-empty string/],
    [{ args: 'a b' }, /"args" must be an array of strings, got string "a b"/],
    [{ args: [1] }, /"args" must be an array of strings/],
    [{ command: [] }, /"command" must list at least one non-empty string/],
    [{ exercise: 'curl x' }, /"exercise" must be an array of strings/],
    [{ exercise: [' '] }, /"exercise" must not hold an empty command/],
    [{ granularity: 'folder' }, /"granularity" must be one of file, dir, package, deps, got string "folder"/],
    [{ strategy: 'fast' }, /"strategy" must be one of auto, audit, observe, rerun/],
    [{ format: 'yaml' }, /"format" must be one of flags, args, json/],
    [{ minimize: 'yes' }, /"minimize" must be true or false/],
    [{ maxRuns: 2.5 }, /"maxRuns" must be a whole number from 1 to 100000, got number 2.5/],
    [{ maxRuns: 1e9 }, /"maxRuns" must be a whole number from 1 to 100000/],
    [{ maxRunTime: 0 }, /"maxRunTime" must be a number of seconds from 0.001 to 2000000, got number 0/],
    [{ maxRunTime: 3_000_000 }, /"maxRunTime" must be a number of seconds from 0.001 to 2000000, got number 3000000/],
    [{ grace: -1 }, /"grace" must be a number of seconds from 0.001 to 2000000, got number -1/],
    [{ grace: '3' }, /"grace" must be a number of seconds from 0.001 to 2000000, got string "3"/],
    [{ readiness: 3000 }, /"readiness" must be an object such as \{"port": 3000\}/],
    [{ readiness: { prot: 3000 } }, /unknown key "readiness.prot" \(known readiness keys: stdout, port, url, timeout\)/],
    [{ readiness: { port: 70000 } }, /"readiness.port" must be a whole number from 1 to 65535, got number 70000/],
    [{ readiness: { url: 'ftp://x/' } }, /"readiness.url" must be an http: or https: URL/],
    [{ readiness: { url: 'nope' } }, /"readiness.url" is not a URL/],
    [{ readiness: { stdout: '(' } }, /"readiness.stdout" is not a valid regular expression/],
    [{ readiness: { timeout: -1 } }, /"readiness.timeout" must be a number of seconds from 0.001 to 2000000, got number -1/],
    [{ readiness: { port: 80.5 } }, /"readiness.port" must be a whole number from 1 to 65535/],
    [{ entry: 'a.js', command: ['npm', 'start'] }, /either "entry" .* or "command"/],
    [{ args: ['x'], command: ['npm', 'start'] }, /"args" go with "entry"/],
  ])('%j', (data, message) => {
    let err: Error | undefined;
    try {
      parseConfig(data, SRC);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toMatchObject({ name: 'PermlearnError', kind: 'usage' });
    expect(err!.message).toMatch(new RegExp(`^${SRC}: `));
    expect(err!.message).toMatch(message);
    expect(err!.message).not.toContain('\n');
  });
});

describe('parseConfigText', () => {
  it('reads the permlearn field of a package.json, or nothing', () => {
    expect(parseConfigText('{"name":"x","permlearn":{"entry":"a.js"}}', 'package.json', { packageJson: true })).toEqual({ entry: 'a.js' });
    expect(parseConfigText('{"name":"x"}', 'package.json', { packageJson: true })).toBeUndefined();
    expect(() => parseConfigText('{"permlearn":{"entri":"a.js"}}', 'package.json', { packageJson: true })).toThrow(
      /^package.json "permlearn": unknown key "entri"/,
    );
  });
  it('text that is not JSON is a usage error', () => {
    expect(() => parseConfigText('{entry: 1}', SRC)).toThrow(/^permlearn.config.json is not valid JSON/);
  });
});

describe('resolveConfig', () => {
  it("resolves paths against the file's folder; a bare node name stays for PATH", () => {
    expect(resolveConfig({ entry: 'src/a.js', root: '..', profile: 'p/x.json', node: 'node', out: 'flags.txt' }, '/w/svc')).toEqual({
      dir: '/w/svc',
      name: 'svc',
      cwd: '/w/svc',
      entry: '/w/svc/src/a.js',
      root: '/w',
      profile: '/w/svc/p/x.json',
      node: 'node',
      out: '/w/svc/flags.txt',
    });
    expect(resolveConfig({ cwd: 'app', node: './bin/node', name: 'api' }, '/w')).toMatchObject({
      cwd: '/w/app',
      node: '/w/bin/node',
      name: 'api',
      profile: '/w/permlearn.json',
    });
  });
});
