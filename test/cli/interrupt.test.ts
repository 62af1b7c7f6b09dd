// Ctrl-C on the real CLI (a child process, real signals): a clean stop, a resumable rerun, a hard stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '#local/emulator/server';
import type { Manifest } from '#steps/finish';

const ROOT = resolve(import.meta.dirname, '../..');
// 2 reportable contracts × 3 datasets × 4 windows of at most 90 days: 24 items, 6 lanes.
const RANGE = ['--from', '2024-01-01', '--to', '2024-10-01'];
const PLANNED = 24;

let emulator: Emulator;
const dirs: string[] = [];
beforeAll(async () => {
  emulator = await startEmulator({ jobTimings: { queuedMs: 100, processingMs: 150 } });
});
afterAll(async () => {
  await emulator.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface Child {
  process: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

/**
 * The CLI as `npm run export` starts it (the tsx binary, which relays signals to its node child), or
 * `direct`ly as one node process (`node --import tsx`), where two signals sent back to back both
 * reach our handler instead of racing in tsx's relay.
 */
function startCli(dest: string, direct = false): Child {
  const child = spawn(
    direct ? process.execPath : join(ROOT, 'node_modules/.bin/tsx'),
    [
      ...(direct ? ['--import', 'tsx'] : []),
      'bin/export.ts',
      ...['--local', '--api-url', emulator.url, '--allow-download-host', '127.0.0.1:*'],
      ...['--dest', dest, ...RANGE, '--time-scale', '0.01'],
    ],
    { cwd: ROOT, env: { ...process.env, LINKEDIN_ACCESS_TOKEN: emulator.token }, stdio: 'pipe' },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { process: child, stderr: () => err, stdout: () => out, exit };
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

async function manifests(dest: string): Promise<Manifest[]> {
  const names = (await readdir(join(dest, 'manifests')).catch(() => [])).filter((n) => n.endsWith('.json'));
  return Promise.all(
    names.map(async (n) => JSON.parse(await readFile(join(dest, 'manifests', n), 'utf8')) as Manifest),
  );
}

const csvs = (all: string[]) => all.filter((f) => f.startsWith('sales-navigator/') && f.endsWith('.csv'));

it('SIGINT stops the run: no new job after it, the manifest says what finished, a rerun exports exactly the rest', async () => {
  const dest = await mkdtemp(join(tmpdir(), 'salesnav-sigint-'));
  dirs.push(dest);
  const jobsBefore = emulator.jobs().length;
  const cli = startCli(dest);
  await waitFor(() => / exported \(\d+ rows/.test(cli.stderr()), 'a first exported item');
  cli.process.kill('SIGINT');
  const jobsAtSignal = emulator.jobs().length;
  expect(await cli.exit).toBe(1);
  const jobsAfter = emulator.jobs().length;

  expect(cli.stderr()).toContain('Interrupted: no new LinkedIn job will be created');
  expect(cli.stderr()).toContain('Run the same command again to export exactly the rest');
  // At most the creates already in flight when the signal came (one per lane running: 4).
  expect(jobsAfter - jobsAtSignal).toBeLessThanOrEqual(4);
  expect(jobsAfter - jobsBefore).toBeLessThan(PLANNED);

  const [manifest] = await manifests(dest);
  expect(manifest).toBeDefined();
  const m = manifest as Manifest;
  expect(m.interrupted).toBe(true);
  expect(m.items).toHaveLength(PLANNED);
  const statuses = new Set(m.items.map((i) => i.status));
  expect([...statuses].every((s) => ['EXPORTED', 'NOT_STARTED', 'INTERRUPTED'].includes(s))).toBe(true);
  expect(statuses.has('NOT_STARTED')).toBe(true);
  const exported = m.items.filter((i) => i.status === 'EXPORTED');
  expect(exported.length).toBeGreaterThan(0);
  expect(m.summary).toMatchObject({ planned: PLANNED, exported: exported.length, failed: 0 });
  expect((m.summary.notStarted ?? 0) + (m.summary.interrupted ?? 0)).toBe(PLANNED - exported.length);
  // Nothing partial: exactly the EXPORTED items have a file, no temp file is left, the lock is gone.
  const after = await files(dest);
  expect(csvs(after)).toEqual(exported.map((i) => i.key).sort());
  expect(after.filter((f) => f.endsWith('.partial') || f.endsWith('.lock'))).toEqual([]);

  // The rerun (same command) exports exactly the rest, with one new job per remaining item.
  const rerun = startCli(dest);
  expect(await rerun.exit).toBe(0);
  const second = (await manifests(dest)).find((x) => x.runId !== m.runId) as Manifest;
  expect(second.summary).toMatchObject({
    planned: PLANNED,
    skipped: exported.length,
    exported: PLANNED - exported.length,
    failed: 0,
  });
  expect(emulator.jobs().length - jobsAfter).toBe(PLANNED - exported.length);
  expect(csvs(await files(dest))).toHaveLength(PLANNED);
}, 120_000);

it('SIGTERM stops too, and a second signal exits at once (130); the next run takes over the lock the dead run left', async () => {
  const dest = await mkdtemp(join(tmpdir(), 'salesnav-sigint2-'));
  dirs.push(dest);
  const cli = startCli(dest, true);
  await waitFor(() => /job \d+ (ENQUEUED|PROCESSING)/.test(cli.stderr()), 'a job under way');
  // Back to back (two different signals, so neither is merged by the OS): the second must not wait
  // for the clean stop the first one started.
  cli.process.kill('SIGTERM');
  cli.process.kill('SIGINT');
  expect(await cli.exit).toBe(130);
  expect(cli.stderr()).toMatch(/(SIGINT|SIGTERM) again: exiting now/);
  expect((await files(dest)).filter((f) => f.endsWith('.lock'))).toHaveLength(1);

  const rerun = startCli(dest);
  expect(await rerun.exit).toBe(0);
  expect(rerun.stderr()).toMatch(/Took over a stale lock of run local-\S+ \(pid \d+ on /);
}, 120_000);
