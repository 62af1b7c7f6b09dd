import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addDays, utcDay } from '#common/days';
import { DATASETS, type Dataset } from '#common/model';
import { EXIT, followExecution, main, USAGE } from '#local/cli/main';
import { type Emulator, startEmulator } from '#local/emulator/server';
import type { Manifest } from '#steps/finish';
import { itemKey } from '#storage/keys';

const EMEA = 'urn:li:contract:1001';
const AMERICAS = 'urn:li:contract:1002';
const NO_REPORTING = 'urn:li:contract:1003';
const RANGE = ['--from', '2024-05-01', '--to', '2024-05-03'];
const WINDOW = { start: '2024-05-01', end: '2024-05-03' };

interface CliRun {
  code: number;
  out: string[];
  err: string[];
  /** stdout and stderr, one string (for "the message mentions" checks). */
  text: string;
}

/** Runs the CLI in this process with captured output; the environment holds only what is passed. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, text: [...out, ...err].join('\n') };
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'salesnav-cli-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Every file under `dir`, as '/'-separated paths relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.')) // hidden: metadata sidecars, the lock
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** The manifest the `Manifest:` line of the last run names; it must live under `<dest>/manifests/`. */
async function manifestOf(run: CliRun, dest: string): Promise<Manifest> {
  const path = run.out
    .filter((l) => l.startsWith('Manifest: '))
    .at(-1)
    ?.slice('Manifest: '.length);
  expect(path, 'a Manifest: line').toBeDefined();
  expect(relative(dest, path as string).split(sep)).toEqual(['manifests', expect.stringMatching(/\.json$/)]);
  return JSON.parse(await readFile(path as string, 'utf8')) as Manifest;
}

function csvKeys(contracts: string[], datasets: readonly Dataset[]): string[] {
  return contracts
    .flatMap((contract) => datasets.map((dataset) => itemKey({ contract, dataset, ...WINDOW })))
    .sort();
}

/** The summary table's data rows (everything between the header and the `Run ...:` line). */
function tableRows(run: CliRun): string[] {
  const lines = run.out.flatMap((l) => l.split('\n'));
  const header = lines.findIndex((l) => l.startsWith('STATUS'));
  expect(header, 'a summary table').toBeGreaterThanOrEqual(0);
  expect(lines[header]).toMatch(/^STATUS\s+DATASET\s+CONTRACT\s+WINDOW\s+ROWS\s+SIZE\s+KEY \/ ERROR$/);
  const end = lines.findIndex((l, i) => i > header && l.startsWith('Run '));
  return lines.slice(header + 1, end);
}

describe('arguments', () => {
  it('--help prints the usage, naming every public flag, and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['--local', '--help']]) {
      const run = await cli(argv);
      expect(run.code).toBe(EXIT.ok);
      expect(run.out).toEqual([USAGE]);
      expect(run.err).toEqual([]);
    }
    for (const flag of [
      '--local',
      '--api-url URL',
      '--dest DIR|s3://bucket/prefix',
      '--from YYYY-MM-DD',
      '--to YYYY-MM-DD',
      '--contract URN',
      '--datasets LIST',
      '--allow-download-host HOST',
      '--time-scale F',
      '--concurrency N',
      '--force',
      '--state-machine-arn ARN',
      '--help',
    ]) {
      expect(USAGE).toContain(flag);
    }
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2 });
    expect(USAGE).toContain('urn:li:contract:<id>');
  });

  it('refuses a --contract in neither URN form, showing both accepted forms', async () => {
    const run = await cli(['--local', '--emulator', '--contract', 'urn:li:organization:1']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err.join('\n')).toMatch(
      /--contract urn:li:organization:1: must look like urn:li:contract:<id> \(LinkedIn's form\) or urn:li:salesContract:<id> \(the seed spec's\)/,
    );
  });

  it.each([
    ['an unknown flag', ['--local', '--bogus'], '--bogus'],
    ['a positional argument', ['--local', 'extra'], 'extra'],
    ['--from without --to', ['--local', '--from', '2024-05-01'], '--to'],
    ['--to without --from', ['--local', '--to', '2024-05-01'], '--from'],
    ['--from after --to', ['--local', '--from', '2024-05-03', '--to', '2024-05-01'], '--to'],
    ['--from equal to --to', ['--local', '--from', '2024-05-03', '--to', '2024-05-03'], '--to'],
    ['an impossible --from', ['--local', '--from', '2026-02-30', '--to', '2026-03-02'], '--from'],
    ['a malformed --to', ['--local', '--from', '2024-05-01', '--to', '2024/05/03'], '--to'],
    ['an unknown dataset', ['--local', '--datasets', 'foo'], '--datasets'],
    ['an unknown dataset in a list', ['--local', '--datasets', 'seat,foo'], '--datasets'],
    ['a contract that is not a URN', ['--local', '--contract', 'not-a-urn'], '--contract'],
    ['--time-scale 0', ['--local', '--time-scale', '0'], '--time-scale'],
    ['--time-scale -1', ['--local', '--time-scale=-1'], '--time-scale'],
    ['--time-scale -1 (separate value)', ['--local', '--time-scale', '-1'], '--time-scale'],
    ['--time-scale abc', ['--local', '--time-scale', 'abc'], '--time-scale'],
    ['--concurrency 0', ['--local', '--concurrency', '0'], '--concurrency'],
    ['--concurrency 10001', ['--local', '--concurrency', '10001'], '--concurrency'],
    ['--concurrency 2.5', ['--local', '--concurrency', '2.5'], '--concurrency'],
    [
      '--concurrency in AWS mode',
      ['--state-machine-arn', 'arn:aws:states:us-east-1:123456789012:stateMachine:X', '--concurrency', '4'],
      'mapConcurrency',
    ],
    ['--api-url not-a-url', ['--local', '--api-url', 'not-a-url'], '--api-url'],
    ['--local and --state-machine-arn', ['--local', '--state-machine-arn', 'arn'], '--state-machine-arn'],
    ['neither --local nor --state-machine-arn', [...RANGE], '--local'],
    ['a state machine ARN that is not one', ['--state-machine-arn', 'not-an-arn'], '--state-machine-arn'],
  ])('%s exits 2 naming the problem', async (_, argv, named) => {
    const dest = await tempDir();
    const emulator =
      argv[0] === '--local' && !argv.includes('--api-url') && !argv.includes('--state-machine-arn');
    const run = await cli([...argv, ...(emulator ? ['--emulator'] : []), '--dest', join(dest, 'out')]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.out).toEqual([]);
    expect(run.err[0]).toMatch(/^error: /);
    expect(run.err[0]).toContain(named);
    expect(await filesUnder(dest)).toEqual([]);
  });

  it('a --to after today exits 2 naming the flag and the day (checked before any run)', async () => {
    const today = utcDay(new Date());
    const dest = await tempDir();
    const run = await cli([
      '--local',
      '--emulator',
      '--dest',
      dest,
      '--from',
      addDays(today, -1),
      '--to',
      addDays(today, 2),
    ]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err[0]).toContain(`--to: ${addDays(today, 2)} is after today`);
  });

  it('--api-url without LINKEDIN_ACCESS_TOKEN exits 2 naming the variable', async () => {
    for (const env of [{}, { LINKEDIN_ACCESS_TOKEN: '  ' }]) {
      const run = await cli(['--local', '--api-url', 'http://127.0.0.1:9/v2', ...RANGE], env);
      expect(run.code).toBe(EXIT.usage);
      expect(run.err.join('\n')).toContain('LINKEDIN_ACCESS_TOKEN');
    }
  });
});

describe('--local with the built-in emulator', () => {
  it('exports every reportable contract and dataset into the folder, with a table and a manifest', async () => {
    const dest = await tempDir();
    const run = await cli(['--local', '--emulator', '--dest', dest, ...RANGE]);

    expect(run.code).toBe(EXIT.ok);
    const expected = csvKeys([EMEA, AMERICAS], DATASETS);
    const rows = tableRows(run);
    expect(rows).toHaveLength(expected.length);
    for (const row of rows)
      expect(row).toMatch(/^EXPORTED\s+\w+\s+100[12]\s+\[2024-05-01, 2024-05-03\)\s+10\s/);
    expect(rows.map((r) => r.split(/\s+/).at(-1)).sort()).toEqual(expected);
    expect(run.err.some((l) => l.startsWith('[6/6] 6 exported, 0 failed'))).toBe(true);

    const manifest = await manifestOf(run, dest);
    expect(manifest.window).toEqual({ from: WINDOW.start, to: WINDOW.end });
    expect(manifest.contracts).toEqual([EMEA, AMERICAS]);
    expect(manifest.summary).toMatchObject({ planned: 6, exported: 6, skipped: 0, failed: 0, rows: 60 });
    expect(manifest.items.map((i) => i.key).sort()).toEqual(expected);

    const files = await filesUnder(dest);
    expect(files.filter((f) => f.startsWith('sales-navigator/'))).toEqual(expected);
    const seat = await readFile(join(dest, itemKey({ contract: EMEA, dataset: 'seat', ...WINDOW })), 'utf8');
    expect(seat.trimEnd().split('\n')).toHaveLength(1 + 10);
  });

  it.each([
    [NO_REPORTING, 'has no reporting access'],
    ['urn:li:salesContract:4242', 'is not a contract of this token'],
  ])('requesting %s exits 2 naming the contract', async (contract, reason) => {
    const dest = await tempDir();
    const run = await cli(['--local', '--emulator', '--dest', dest, ...RANGE, '--contract', contract]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err.join('\n')).toContain(`${contract} ${reason}`);
    expect((await filesUnder(dest)).filter((f) => f.startsWith('sales-navigator/'))).toEqual([]);
  });
});

describe('--contract in the seed spec’s form', () => {
  it('exports the contract LinkedIn lists as urn:li:contract once, whichever form names it', async () => {
    const dest = await tempDir();
    const run = await cli([
      '--local',
      '--emulator',
      '--dest',
      dest,
      ...RANGE,
      '--contract',
      'urn:li:salesContract:1001',
      '--contract',
      EMEA,
      '--datasets',
      'seat',
    ]);
    expect(run.code).toBe(EXIT.ok);
    const manifest = await manifestOf(run, dest);
    expect(manifest.contracts).toEqual([EMEA]);
    expect(manifest.items.map((i) => i.key)).toEqual([
      itemKey({ contract: EMEA, dataset: 'seat', ...WINDOW }),
    ]);
  });
});

describe('--local --api-url against a separately started LinkedIn', () => {
  let emulator: Emulator;
  let env: NodeJS.ProcessEnv;
  /** argv of a local run against `emulator`; its media host must be allowed explicitly. */
  const api = (dest: string, more: string[] = [], allowHosts = ['127.0.0.1:*']) => [
    ...['--local', '--api-url', emulator.url, '--dest', dest, ...RANGE, ...more],
    ...allowHosts.flatMap((host) => ['--allow-download-host', host]),
  ];

  beforeAll(async () => {
    emulator = await startEmulator({ jobTimings: { queuedMs: 10, processingMs: 10 } });
    env = { LINKEDIN_ACCESS_TOKEN: emulator.token };
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    for (const contract of [EMEA, AMERICAS]) for (const d of DATASETS) emulator.setScenario(contract, d, {});
  });

  it('--concurrency 1 exports one lane at a time', async () => {
    const dest = await tempDir();
    const jobsBefore = emulator.jobs().length;
    const args = ['--contract', EMEA, '--contract', AMERICAS, '--datasets', 'seat', '--concurrency', '1'];

    const run = await cli(api(dest, [...args, '--time-scale', '0.0005']), env);

    expect(run.code).toBe(EXIT.ok);
    const jobs = emulator.jobs().slice(jobsBefore);
    expect(jobs.map((j) => j.contract).sort()).toEqual([EMEA, AMERICAS].sort());
    // The second lane's job is created only after the first one's file was downloaded.
    const download = emulator.requests.find((r) => r.path.startsWith(`/media/exports/${jobs[0]?.id}/`));
    expect(download).toBeDefined();
    expect(jobs[1]?.createdAt).toBeGreaterThanOrEqual(download?.at ?? Number.POSITIVE_INFINITY);
  });

  it('exports only the requested contract and datasets; a rerun skips them; --force exports again', async () => {
    const dest = await tempDir();
    const filters = ['--contract', EMEA, '--datasets', 'seat,activityOutcome', '--time-scale', '0.0005'];
    const expected = csvKeys([EMEA], ['seat', 'activityOutcome']);
    const jobsBefore = emulator.jobs().length;

    const first = await cli(api(dest, filters), env);
    expect(first.code).toBe(EXIT.ok);
    const exported = await manifestOf(first, dest);
    expect(exported.contracts).toEqual([EMEA]);
    expect(exported.datasets).toEqual(['seat', 'activityOutcome']);
    expect(exported.items.every((i) => i.status === 'EXPORTED')).toBe(true);
    expect(exported.items.map((i) => i.key).sort()).toEqual(expected);
    expect((await filesUnder(dest)).filter((f) => f.startsWith('sales-navigator/'))).toEqual(expected);
    expect(emulator.jobs().length - jobsBefore).toBe(2);

    const rerun = await cli(api(dest, filters), env);
    expect(rerun.code).toBe(EXIT.ok);
    const skipped = await manifestOf(rerun, dest);
    expect(skipped.runId).not.toBe(exported.runId);
    expect(skipped.summary).toMatchObject({ planned: 2, exported: 0, skipped: 2, failed: 0 });
    expect(tableRows(rerun).every((r) => r.startsWith('SKIPPED '))).toBe(true);
    expect(emulator.jobs().length - jobsBefore).toBe(2);

    const forced = await cli(api(dest, [...filters, '--force']), env);
    expect(forced.code).toBe(EXIT.ok);
    const again = await manifestOf(forced, dest);
    expect(again.force).toBe(true);
    expect(again.summary).toMatchObject({ planned: 2, exported: 2, skipped: 0, failed: 0 });
    expect(emulator.jobs().length - jobsBefore).toBe(4);
  });

  it('a wrong token fails the run at PlanRun: exit 1, the message is about the token, nothing is written', async () => {
    const dest = await tempDir();
    const run = await cli(api(dest, ['--contract', EMEA]), { LINKEDIN_ACCESS_TOKEN: 'not-the-right-token' });
    expect(run.code).toBe(EXIT.failed);
    expect(run.err.join('\n')).toMatch(/LinkedInAuthError: .*access token/);
    expect(run.text).not.toContain(emulator.token);
    expect(await filesUnder(join(dest, 'sales-navigator'))).toEqual([]);
  });

  // A range long enough to be split into runs makes the CLI count contracts before any run starts:
  // a 401 there must still end as exit 1 with a named error, not as an unhandled rejection.
  it('a wrong token while sizing a long backfill exits 1 with the named error', async () => {
    const dest = await tempDir();
    const run = await cli(
      ['--local', '--api-url', emulator.url, '--dest', dest, '--from', '2024-01-01', '--to', '2024-12-31'],
      { LINKEDIN_ACCESS_TOKEN: 'not-the-right-token' },
    );
    expect(run.code).toBe(EXIT.failed);
    expect(run.text).toContain('error: LinkedInAuthError');
    expect(run.text).not.toContain(emulator.token);
  });

  it('a --to after today is refused by name before the range is split into runs', async () => {
    const dest = await tempDir();
    const run = await cli(
      ['--local', '--api-url', emulator.url, '--dest', dest, '--from', '2024-05-01', '--to', '2099-01-01'],
      env,
    );
    expect(run.code).toBe(EXIT.usage);
    expect(run.text).toContain('--to: 2099-01-01 is after today');
  });

  it('without --allow-download-host the emulator download URL is refused: the item fails, exit 2 naming the flag', async () => {
    const dest = await tempDir();
    const run = await cli(
      api(dest, ['--contract', EMEA, '--datasets', 'seat', '--time-scale', '0.0005'], []),
      env,
    );
    expect(run.code).toBe(EXIT.usage);
    expect(run.err.at(-1)).toContain('--allow-download-host 127.0.0.1');
    const manifest = await manifestOf(run, dest);
    expect(manifest.items).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({ name: 'DownloadUrlRejectedError' }),
      }),
    ]);
    expect(run.text).not.toMatch(/sig=/);
  });

  it('a lane that keeps failing: exit 1, the manifest and the table show the FAILED item, the rest is exported', async () => {
    emulator.setScenario(EMEA, 'activity', {
      failJob: { status: 'FAILED_DUE_TO_INTERNAL_ERROR', times: 99 },
    });
    const dest = await tempDir();
    const run = await cli(api(dest, ['--contract', EMEA, '--time-scale', '0.0005']), env);

    expect(run.code).toBe(EXIT.failed);
    const manifest = await manifestOf(run, dest);
    expect(manifest.summary).toMatchObject({ planned: 3, exported: 2, failed: 1 });
    const failed = manifest.items.filter((i) => i.status === 'FAILED');
    expect(failed).toEqual([
      expect.objectContaining({
        dataset: 'activity',
        contract: EMEA,
        window: WINDOW,
        error: expect.objectContaining({ name: 'ExportJobFailedError' }),
      }),
    ]);
    expect(failed[0]?.error?.message).toContain('FAILED_DUE_TO_INTERNAL_ERROR');
    expect(failed[0]?.attempts).toBeGreaterThan(1);
    const failedRow = tableRows(run).find((r) => r.startsWith('FAILED '));
    expect(failedRow).toMatch(
      /^FAILED\s+activity\s+1001\s+\[2024-05-01, 2024-05-03\)\s.*ExportJobFailedError: /,
    );
    expect(failedRow).toContain('FAILED_DUE_TO_INTERNAL_ERROR');
    expect(await filesUnder(join(dest, 'sales-navigator'))).toEqual(
      csvKeys([EMEA], ['seat', 'activityOutcome']).map((k) => k.replace('sales-navigator/', '')),
    );
  });
});

describe('AWS mode (--state-machine-arn)', () => {
  const sfn = mockClient(SFNClient);
  const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ExportRun';
  const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:ExportRun:cli-1';
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };
  afterEach(() => sfn.reset());
  // The CLI checks that credentials resolve before calling AWS; the calls themselves are mocked.
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
  });
  afterAll(() => {
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  function execution(...describes: Record<string, string>[]): void {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    const describe = sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION });
    for (const d of describes) describe.resolvesOnce(d as never);
  }

  it('starts the execution with the JSON input and follows it RUNNING → SUCCEEDED (exit 0, prints the output)', async () => {
    const output = JSON.stringify({ runId: 'cli-1', summary: { exported: 6 } });
    execution({ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'SUCCEEDED', output });
    const input = { from: '2024-05-01', to: '2024-05-03', datasets: ['seat' as const] };
    const { out, err, io: cliIo } = io();

    expect(await followExecution(new SFNClient({}), ARN, input, cliIo, 1)).toBe(EXIT.ok);
    const [start] = sfn.commandCalls(StartExecutionCommand);
    expect(start?.args[0].input).toMatchObject({
      stateMachineArn: ARN,
      name: expect.stringMatching(/^cli-/),
    });
    expect(JSON.parse(start?.args[0].input.input ?? '')).toEqual(input);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
    expect(out).toEqual([output]);
    expect(err.filter((l) => l.includes(': RUNNING'))).toHaveLength(1);
  });

  it.each([
    ['RunIncompleteError', EXIT.failed, '1 of 6 item(s) failed in run cli-1; see manifests/cli-1.json'],
    ['InvalidInputError', EXIT.usage, 'invalid execution input: to: must be after from'],
    ['LinkedInAuthError', EXIT.failed, 'LinkedIn answered 401'],
  ])('FAILED with %s exits %i and prints the error and cause', async (error, code, cause) => {
    execution({ status: 'RUNNING' }, { status: 'FAILED', error, cause });
    const { out, err, io: cliIo } = io();
    expect(await followExecution(new SFNClient({}), ARN, {}, cliIo, 1)).toBe(code);
    expect(out).toEqual([]);
    expect(err.at(-1)).toBe(`error: execution ${start().name} FAILED: ${error}: ${cause}`);
  });

  it('TIMED_OUT and ABORTED executions exit 1', async () => {
    for (const status of ['TIMED_OUT', 'ABORTED']) {
      sfn.reset();
      execution({ status });
      const { err, io: cliIo } = io();
      expect(await followExecution(new SFNClient({}), ARN, {}, cliIo, 1)).toBe(EXIT.failed);
      expect(err.at(-1)).toContain(status);
    }
  });

  it('main turns the flags into the execution input', async () => {
    execution({ status: 'SUCCEEDED', output: '{}' });
    const run = await cli(
      ['--state-machine-arn', ARN, ...RANGE, '--contract', EMEA, '--datasets', 'seat,activity', '--force'],
      { EXPORT_POLL_MS: '1' },
    );
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(start().input ?? '')).toEqual({
      from: WINDOW.start,
      to: WINDOW.end,
      contracts: [EMEA],
      datasets: ['seat', 'activity'],
      force: true,
    });
  });

  it('a range PlanRun finds too large is halved on 90-day boundaries and run piece by piece', async () => {
    // 2024-01-01..2025-01-01 is 5 windows: refused, then 2 windows (accepted) + 3 windows (refused
    // again, halved into 1 + 2 accepted). Every day is covered exactly once, in order.
    const ranges: string[] = [];
    sfn.on(StartExecutionCommand).callsFake((command: { input: string; name: string }) => {
      const { from, to } = JSON.parse(command.input) as { from: string; to: string };
      ranges.push(`${from}..${to}`);
      return { executionArn: `${EXECUTION}-${ranges.length}`, startDate: new Date() };
    });
    sfn.on(DescribeExecutionCommand).callsFake((command: { executionArn: string }) => {
      const n = Number(command.executionArn.split('-').at(-1));
      const tooLarge = n === 1 || n === 3;
      return tooLarge
        ? { status: 'FAILED', error: 'PlanTooLargeError', cause: 'the run would have 1500 items' }
        : { status: 'SUCCEEDED', output: `{"run":${n}}` };
    });
    const { out, err, io: cliIo } = io();

    const input = { from: '2024-01-01', to: '2025-01-01' };
    expect(await followExecution(new SFNClient({}), ARN, input, cliIo, 1)).toBe(EXIT.ok);
    expect(ranges).toEqual([
      '2024-01-01..2025-01-01',
      '2024-01-01..2024-06-29',
      '2024-06-29..2025-01-01',
      '2024-06-29..2024-09-27',
      '2024-09-27..2025-01-01',
    ]);
    expect(out).toEqual(['{"run":2}', '{"run":4}', '{"run":5}']);
    expect(err.filter((l) => l.includes('too large for one run'))).toHaveLength(2);
  });

  it('a single window PlanRun finds too large cannot be split: exit 1 with the error', async () => {
    execution({ status: 'FAILED', error: 'PlanTooLargeError', cause: 'the run would have 1200 items' });
    const { err, io: cliIo } = io();
    const input = { from: '2024-01-01', to: '2024-02-01' };
    expect(await followExecution(new SFNClient({}), ARN, input, cliIo, 1)).toBe(EXIT.failed);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(err.at(-1)).toContain('PlanTooLargeError: the run would have 1200 items');
  });

  it('a malformed state machine ARN exits 2 without calling AWS', async () => {
    const run = await cli(['--state-machine-arn', 'not-an-arn']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err[0]).toContain('--state-machine-arn');
    expect(sfn.calls()).toHaveLength(0);
  });

  function start() {
    const call = sfn.commandCalls(StartExecutionCommand)[0];
    expect(call).toBeDefined();
    return call?.args[0].input as { name: string; input?: string };
  }
});
