// Complain mode end to end: a service recorded while traffic drives it, a profile built from the
// records and verified with an exercise that hits every route, records of several instances merged, a
// record cut off by SIGKILL, and check --records.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readlinkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { baseEnv, cliPath, copyFixture, leftoverProcesses, nodeBinary, removeCopies, runCli } from '../helpers/e2e.js';

afterAll(removeCopies);

const ROUTES = ['/', '/report', '/upload', '/convert'];

/** Start `permlearn record` on the traffic fixture; resolve with the port once it listens. */
async function startRecording(major: number, dir: string, out: string, extra: string[] = [], env: Record<string, string> = {}) {
  const proc = execa(process.execPath, [cliPath, 'record', '--out', out, '--interval', '0.1', ...extra, '--', nodeBinary(major), 'server.js', '0'], {
    cwd: dir,
    env: { ...baseEnv, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    proc.stdout!.on('data', (d: Buffer) => {
      text += String(d);
      const m = /listening on (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`record exited with ${code} before listening`)));
  });
  return { proc, port };
}

/** A small load generator: `rounds` passes over the routes, `concurrency` at a time. */
async function drive(port: number, routes: string[], rounds: number, concurrency = 8): Promise<number> {
  let ok = 0;
  const urls = Array.from({ length: rounds }, () => routes).flat();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; i < urls.length; i += concurrency) {
        const r = await fetch(`http://127.0.0.1:${port}${urls[i]}`);
        await r.text();
        if (r.ok) ok++;
      }
    }),
  );
  return ok;
}

const exerciseAll = (port: number) => ROUTES.map((r) => `curl -sf http://127.0.0.1:${port}${r}`).join(' && ');

function recordFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^record-.*\.ndjson$/.test(n))
    .map((n) => path.join(dir, n));
}

function expectedFlags(major: number, d: string): string[] {
  const enable = major === 20 ? '--experimental-permission' : '--permission';
  return [
    enable,
    `--allow-fs-read=${d}/config.json`,
    `--allow-fs-read=${d}/lib`,
    // Node 20 checks the read of the entry itself (22+ do not).
    ...(major === 20 ? [`--allow-fs-read=${d}/server.js`] : []),
    `--allow-fs-read=${d}/templates`,
    `--allow-fs-write=${d}/uploads/*`,
    '--allow-child-process',
    ...(major >= 26 ? ['--allow-net'] : []),
  ];
}

describe.each([20, 22, 24, 26])('record on Node %i', (major) => {
  it('records traffic, and the profile built from the records verifies every route; start-up alone does not', async () => {
    const dir = copyFixture('services/traffic');
    const recs = path.join(dir, '..', 'recs');
    const { proc, port } = await startRecording(major, dir, recs, [], { TRAFFIC_API_SECRET: 'ENV-SECRET-VALUE-3c81' });
    expect(await drive(port, ROUTES, 40)).toBe(160);
    proc.kill('SIGTERM');
    const ended = await proc;
    expect(ended.exitCode).toBe(0);
    const files = recordFiles(recs);
    expect(files).toHaveLength(1);
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    const text = readFileSync(files[0]!, 'utf8');
    expect(text).toContain('"final":true');
    // Paths and call sites only: no content the service wrote or served.
    expect(text).not.toContain('data');
    expect(text).not.toContain('converted');
    // Nor a secret the service read from its environment or from a file (it did read both).
    expect(text).toContain(`${dir}/templates/token.txt`);
    expect(text).not.toContain('ENV-SECRET-VALUE');
    expect(text).not.toContain('TOKEN-FILE-CONTENT');
    expect(text).not.toContain('TRAFFIC_API_SECRET');
    // Signed, with the key permlearn kept beside the folder (0600), not in it.
    expect(statSync(`${recs}.key`).mode & 0o777).toBe(0o600);
    expect(text.split('\n')[0]).toMatch(/^[A-Za-z0-9_-]{22} \{"t":"record"/);

    const appPort = 41000 + major;
    const out = path.join(dir, '..', 'from-records.json');
    const r = await runCli(
      [
        'server.js',
        '--records',
        recs,
        '--node',
        nodeBinary(major),
        '--ready-stdout',
        'listening',
        '--exercise',
        exerciseAll(appPort),
        '--format',
        'json',
        '--out',
        out,
        '--',
        String(appPort),
      ],
      { cwd: dir },
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.exitCode).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    expect(profile.status).toBe('verified');
    expect(profile.flags).toEqual(expectedFlags(major, dir));
    expect(profile.records.files).toBe(1);
    expect(profile.records.modes).toEqual([major >= 24 ? 'audit' : 'observe']);
    const seenOf = (flag: string) => profile.grants.find((g: { flag: string }) => g.flag === flag).seen;
    for (const g of profile.grants) {
      expect(g.seen).toEqual({ runs: 1, of: 1, first: expect.any(Number), last: expect.any(Number) });
      expect(g.seen.first).toBeGreaterThanOrEqual(profile.records.first);
      expect(g.seen.last).toBeLessThanOrEqual(profile.records.last);
    }
    // Start-up read the config before any request spawned a child; the config was read only then.
    expect(seenOf(`--allow-fs-read=${dir}/config.json`).last).toBeLessThan(seenOf('--allow-child-process').first);
    const explained = await runCli(['explain', out], { cwd: dir });
    expect(explained.stdout).toContain(
      `--allow-child-process  seen in 1 of 1 record, first ${new Date(seenOf('--allow-child-process').first).toISOString()}, last ${new Date(seenOf('--allow-child-process').last).toISOString()}`,
    );

    // A profile learned from start-up alone: the routes fail under it.
    const startup = await runCli(['server.js', '--node', nodeBinary(major), '--ready-stdout', 'listening', '--format', 'json', '--', String(appPort)], {
      cwd: dir,
    });
    const alone = JSON.parse(String(startup.stdout));
    expect(alone.flags).not.toContain('--allow-child-process');
    const check = await runCli(
      [
        'server.js',
        '--node',
        nodeBinary(major),
        '--ready-stdout',
        'listening',
        '--exercise',
        exerciseAll(appPort),
        '--max-runs',
        '1',
        '--strategy',
        'rerun',
        '--format',
        'json',
        '--',
        String(appPort),
      ],
      { cwd: dir },
    );
    expect(check.exitCode).not.toBe(0);

    // Enforce a profile without the child grant and keep recording: the denial of /convert is recorded
    // with its call site, and check --records names it (exit 7).
    const committed = { ...profile, grants: profile.grants.filter((g: { flag: string }) => g.flag !== '--allow-child-process') };
    committed.flags = profile.flags.filter((f: string) => f !== '--allow-child-process');
    const committedFile = path.join(dir, 'permlearn.json');
    writeFileSync(committedFile, JSON.stringify(committed));
    chmodSync(committedFile, 0o644);
    const denials = path.join(dir, '..', 'denials');
    const enforced = await startRecording(major, dir, denials, ['--profile', committedFile]);
    const served = await drive(enforced.port, ROUTES, 5);
    enforced.proc.kill('SIGTERM');
    const done = await enforced.proc;
    expect(done.exitCode).toBe(0);
    expect(done.stderr).toContain('enforce mode');
    expect(served).toBe(15); // every /convert failed, every other route worked
    const [denialFile] = recordFiles(denials);
    const seenLines = readFileSync(denialFile!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l.slice(23)));
    expect(seenLines[0]).toMatchObject({ t: 'record', mode: 'enforce' });
    // What the app asked for, with who asked (Node's own start-up read of the folder, which it gets by
    // without, has no call site).
    const denied = seenLines.filter((l) => l.t === 'seen' && l.site !== undefined);
    expect(denied.map((l) => [l.permission, l.resource, l.denied, l.count])).toEqual([['ChildProcess', '/bin/echo', true, 5]]);
    expect(denied[0].site).toMatch(new RegExp(`^${dir}/server.js:\\d+:\\d+$`));
    const c = await runCli(['check', '--records', denials, '--profile', committedFile], { cwd: dir });
    expect(c.exitCode).toBe(7);
    expect(c.stdout).toContain(`new need: ChildProcess /bin/echo (denied), 5×, seen in 1 of 1`);
    expect(c.stdout).toContain(`asked by ${denied[0].site}`);
    expect(String(c.stdout).match(/new need/g)).toHaveLength(1);
    expect(await leftoverProcesses()).toEqual([]);
  }, 180_000);
});

describe('records on Node 26', () => {
  it('merges several instances, uses a record cut off by SIGKILL, and check --records finds new needs', async () => {
    const dir = copyFixture('services/traffic');
    const recs = path.join(dir, '..', 'recs');
    // Instance one serves reports only and is killed outright (no last flush).
    const one = await startRecording(26, dir, recs);
    await drive(one.port, ['/', '/report'], 10);
    await new Promise((r) => setTimeout(r, 400)); // past an interval: a flush happened
    // Only this copy's server: the process whose cwd is the fixture copy.
    const pids = execaSync('pgrep', ['-f', `^${nodeBinary(26)} server.js 0`]).filter((pid) => cwdOf(pid) === dir);
    expect(pids).toHaveLength(1);
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    await one.proc;
    const cut = recordFiles(recs);
    expect(cut).toHaveLength(1);
    expect(readFileSync(cut[0]!, 'utf8')).toContain('"final":false');
    // Instance two serves uploads and conversions.
    const two = await startRecording(26, dir, recs);
    await drive(two.port, ['/upload', '/convert'], 10);
    two.proc.kill('SIGTERM');
    await two.proc;
    expect(recordFiles(recs)).toHaveLength(2);

    const appPort = 41126;
    const out = path.join(dir, '..', 'merged.json');
    const r = await runCli(
      [
        'server.js',
        '--records',
        recs,
        '--node',
        nodeBinary(26),
        '--ready-stdout',
        'listening',
        '--exercise',
        exerciseAll(appPort),
        '--format',
        'json',
        '--out',
        out,
        '--',
        String(appPort),
      ],
      { cwd: dir },
    );
    expect(r.exitCode).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    expect(profile.flags).toEqual(expectedFlags(26, dir));
    expect(profile.records).toMatchObject({ files: 2, cutOff: 1, modes: ['audit'] });
    const seen = Object.fromEntries(profile.grants.map((g: { flag: string; seen: unknown }) => [g.flag, g.seen]));
    expect(seen[`--allow-fs-read=${dir}/templates`]).toMatchObject({ runs: 1, of: 2 });
    expect(seen['--allow-child-process']).toMatchObject({ runs: 1, of: 2 });
    expect(seen[`--allow-fs-read=${dir}/config.json`]).toMatchObject({ runs: 2, of: 2 });
    // The reports were served by the first instance, the conversions by the second, started after it.
    expect(seen[`--allow-fs-read=${dir}/templates`].last).toBeLessThan(seen['--allow-child-process'].first);

    // A committed profile without the upload folder: check --records names the need and who asked (exit 7).
    const committed = { ...profile, grants: profile.grants.filter((g: { flag: string }) => !g.flag.includes('uploads')) };
    committed.flags = ['--permission', ...committed.grants.map((g: { flag: string }) => g.flag)];
    const committedFile = path.join(dir, 'permlearn.json');
    writeFileSync(committedFile, JSON.stringify(committed));
    chmodSync(committedFile, 0o644);
    const c = await runCli(['check', '--records', recs, '--profile', committedFile], { cwd: dir });
    expect(c.exitCode).toBe(7);
    expect(c.stdout).toContain(`new need: FileSystemWrite ${dir}/uploads`);
    expect(c.stdout).toContain(`asked by ${dir}/server.js:`);
    const ok = await runCli(['check', '--records', recs, '--profile', out], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(await leftoverProcesses()).toEqual([]);
  }, 120_000);
});

function cwdOf(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function execaSync(cmd: string, args: string[]): string[] {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return String(r.stdout).split('\n').filter(Boolean);
}

describe.each([22, 26])('forged records on Node %i', (major) => {
  it('a line the app appends to its own record, and a record file it writes, grant nothing', async () => {
    const dir = copyFixture('hostile/forge-record');
    const recs = path.join(dir, '..', 'recs');
    const rec = await runCli(['record', '--out', recs, '--', nodeBinary(major), 'app.js'], { cwd: dir });
    expect(rec.exitCode).toBe(0);
    expect(recordFiles(recs)).toHaveLength(2); // its own, and the one the app wrote
    const own = recordFiles(recs).find((f) => !path.basename(f).startsWith('record-4242-'))!;
    expect(readFileSync(own, 'utf8')).toContain('"resource":"/etc"'); // the forgery is there
    const out = path.join(dir, '..', 'p.json');
    const r = await runCli(['--records', recs, '--node', nodeBinary(major), '--format', 'json', '--out', out], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    expect(profile.flags).toEqual([major === 20 ? '--experimental-permission' : '--permission', `--allow-fs-read=${dir}/config.json`]);
    expect(profile.records).toMatchObject({ files: 1, rejected: 1, forged: 2 });
    expect(profile.warnings).toContain('2 record lines failed the key check (not written by the recorder) and were ignored');
    expect(r.stderr).toContain(`1 record file failed the key check and was ignored: ${recs}/record-4242-`);
    // check --records says the same, and finds no need in the forged lines.
    const c = await runCli(['check', '--records', recs, '--profile', out], { cwd: dir });
    expect(c.exitCode).toBe(0);
    expect(c.stderr).toContain('2 record lines failed the key check');
    // Without the key nothing can be checked: the warning says so, and the forged lines count as needs.
    rmSync(`${recs}.key`);
    const unchecked = await runCli(['check', '--records', recs, '--profile', out], { cwd: dir });
    expect(unchecked.stderr).toContain('were not checked against a key');
    expect(unchecked.exitCode).toBe(7);
  }, 120_000);
});

describe('record cap on Node 26', () => {
  it('checks past the cap of distinct entries are counted by permission and folder, in the record and the profile', async () => {
    const dir = copyFixture('services/many-reads');
    const recs = path.join(dir, '..', 'recs');
    const rec = await runCli(['record', '--out', recs, '--', nodeBinary(26), 'app.js'], { cwd: dir, env: { ...baseEnv, PERMLEARN_RECORD_MAX: '10' } });
    expect(rec.exitCode).toBe(0);
    const [file] = recordFiles(recs);
    const lines = readFileSync(file!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l.slice(23)));
    expect(lines.filter((l) => l.t === 'seen')).toHaveLength(10);
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ t: 'summary', entries: 10, final: true });
    expect(summary.dropped).toBeGreaterThan(30);
    expect(summary.droppedBy).toEqual([{ permission: 'FileSystemRead', count: summary.dropped, under: [`${dir}/data`] }]);
    const out = path.join(dir, '..', 'p.json');
    const r = await runCli(['--records', recs, '--node', nodeBinary(26), '--format', 'json', '--out', out], { cwd: dir });
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    expect(profile.records.dropped).toBe(summary.dropped);
    expect(profile.warnings).toContain(
      `${summary.dropped} checks of FileSystemRead came past a recorder's cap of distinct entries and are not in the records (under ${dir}/data): the profile may lack those needs (raise PERMLEARN_RECORD_MAX)`,
    );
    // The enforce runs then find what the records could not hold.
    expect(r.exitCode).toBe(0);
    expect(profile.flags).toEqual(['--permission', `--allow-fs-read=${dir}/data`]);
  }, 120_000);
});

describe.each([22, 24, 26])('record a node:cluster service on Node %i', (major) => {
  it('each worker records its own signed file; a forged line in one is dropped; the profile verifies', async () => {
    const dir = copyFixture('services/cluster');
    const recs = path.join(dir, '..', 'recs');
    const { proc, port } = await startRecording(major, dir, recs);
    expect(await drive(port, ['/page'], 20, 4)).toBe(20);
    proc.kill('SIGTERM');
    expect((await proc).exitCode).toBe(0);
    // The primary and two workers: one file each, every line signed with the key (the workers got it
    // through their environment only: the preload took it out of the primary's before the app ran).
    const files = recordFiles(recs);
    expect(files).toHaveLength(3);
    const linesOf = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
    for (const f of files) for (const l of linesOf(f)) expect(l).toMatch(/^[A-Za-z0-9_-]{22} \{/);
    const records = files.map((f) => linesOf(f).map((l) => JSON.parse(l.slice(23))));
    const seen = (rec: { t: string; permission: string; resource: string; count: number; site?: string }[]) =>
      rec.filter((e) => e.t === 'seen').map(({ permission, resource, count, site }) => ({ permission, resource, count, ...(site ? { site } : {}) }));
    // The primary started first: its preload ran before it forked the workers.
    const order = records.map((r, i) => [r[0].started as number, i] as const).sort((a, b) => a[0] - b[0]);
    const primary = records[order[0]![1]]!;
    const workers = order.slice(1).map(([, i]) => records[i]!);
    // Start-up reads as each line reports them: the entry through the observe mode's loader (22: the
    // CommonJS loader's reads of server.js), the folder's package scope (24 once, 26 twice).
    const startup =
      major === 22
        ? [{ permission: 'FileSystemRead', resource: `${dir}/server.js`, count: 5 }]
        : [{ permission: 'FileSystemRead', resource: dir, count: major === 24 ? 1 : 2 }];
    // The primary: its config, and cluster.fork() twice, the child process check Node makes for each
    // worker (the node binary, asked by the fork line of server.js); on 26 the shared listening socket,
    // which the primary opens for its workers (Net, '' for a TCP listen).
    expect(seen(primary)).toEqual([
      ...startup,
      { permission: 'FileSystemRead', resource: `${dir}/config.json`, count: 1, site: `${dir}/server.js:12:32` },
      { permission: 'ChildProcess', resource: nodeBinary(major), count: 2, site: `${dir}/server.js:17:45` },
      ...(major >= 26 ? [{ permission: 'Net', resource: '', count: 2 }] : []),
    ]);
    // Each worker: the same start-up, then the template of every request it answered (20 in all).
    const page = `${dir}/templates/page.html`;
    const counts = workers.map((w) => seen(w).find((e) => e.resource === page)?.count ?? 0);
    expect(counts.reduce((n, c) => n + c, 0)).toBe(20);
    for (const [i, w] of workers.entries()) {
      expect(seen(w)).toEqual([
        ...startup,
        ...(counts[i]! > 0 ? [{ permission: 'FileSystemRead', resource: page, count: counts[i], site: `${dir}/server.js:32:21` }] : []),
      ]);
    }
    // A line added to a worker's record by someone without the key: dropped, and said so.
    const worker = files[order[1]![1]]!;
    const forged = JSON.stringify({ t: 'seen', permission: 'FileSystemRead', resource: '/etc', count: 1, first: 1, last: 1, site: `${dir}/server.js:1:1` });
    writeFileSync(worker, `${readFileSync(worker, 'utf8')}AAAAAAAAAAAAAAAAAAAAAA ${forged}\n`);

    const appPort = 41200 + major;
    const out = path.join(dir, '..', 'from-records.json');
    const r = await runCli(
      [
        'server.js',
        '--records',
        recs,
        '--node',
        nodeBinary(major),
        '--ready-stdout',
        'listening',
        '--exercise',
        `curl -sf http://127.0.0.1:${appPort}/page`,
        '--format',
        'json',
        '--out',
        out,
        '--',
        String(appPort),
      ],
      { cwd: dir },
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.exitCode).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    expect(profile.status).toBe('verified');
    expect(profile.records).toMatchObject({ files: 3, forged: 1 });
    expect(profile.warnings).toContain('1 record line failed the key check (not written by the recorder) and was ignored');
    expect(profile.flags).toEqual([
      '--permission',
      `--allow-fs-read=${dir}/config.json`,
      `--allow-fs-read=${dir}/templates`,
      '--allow-child-process',
      ...(major >= 26 ? ['--allow-net'] : []),
    ]);
    // The forged line granted nothing, and it is not evidence for explain either.
    expect(JSON.stringify(profile)).not.toContain('"/etc"');
    expect(await leftoverProcesses()).toEqual([]);
  }, 180_000);
});
