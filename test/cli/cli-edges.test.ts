// The CLI at its edges (in-process): explicit emulator, data-source isolation, errors naming the fix, lock, JSON.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '#common/settings';
import { parseCli } from '#local/cli/args';
import { scaledIdleTimeout } from '#local/cli/local-run';
import { type CliIo, EXIT, main } from '#local/cli/main';
import { type Emulator, startEmulator } from '#local/emulator/server';
import type { Manifest } from '#steps/finish';
import { startS3rver } from '#test/support/s3rver';

const RANGE = ['--from', '2024-05-01', '--to', '2024-05-03'];
const EMEA = 'urn:li:contract:1001';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, more: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l), ...more });
  return { code, out, err, text: [...out, ...err].join('\n') };
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'salesnav-edges-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function manifestsIn(dest: string): Promise<Manifest[]> {
  const names = (await readdir(join(dest, 'manifests')).catch(() => [])).filter((n) => n.endsWith('.json'));
  return Promise.all(
    names.map(async (n) => JSON.parse(await readFile(join(dest, 'manifests', n), 'utf8')) as Manifest),
  );
}

describe('arguments that say the fix', () => {
  it.each([
    ['--local alone', ['--local', ...RANGE], ['--api-url', '--emulator']],
    ['a typo', ['--local', '--emulator', '--form', '2024-05-01'], ['--form', 'did you mean --from?']],
    ['a dataset typo', ['--local', '--emulator', '--datasets', 'seats'], ['"seats"', 'did you mean seat?']],
    [
      '--api-url with --emulator',
      ['--local', '--emulator', '--api-url', 'http://x/v2'],
      ['--api-url', '--emulator'],
    ],
    [
      'local-only flags in AWS mode',
      [
        '--state-machine-arn',
        'arn:aws:states:eu-west-1:123456789012:stateMachine:X',
        '--dest',
        'd',
        '--time-scale',
        '2',
        '--api-url',
        'http://x',
      ],
      ['--api-url, --dest, --time-scale do not apply in AWS mode'],
    ],
    [
      '--no-wait locally',
      ['--local', '--emulator', '--no-wait'],
      ['--no-wait does not apply to a local run'],
    ],
    ['--output yaml', ['--local', '--emulator', '--output', 'yaml'], ['--output']],
  ])('%s: exit 2 naming it', async (_, argv, named) => {
    const run = await cli(argv);
    expect(run.code).toBe(EXIT.usage);
    for (const n of named) expect(run.err[0]).toContain(n);
  });

  it('the demo and the emulator write to their own default folder', () => {
    expect(parseCli(['--demo'])).toMatchObject({ emulator: true, local: true, dest: './exports-demo' });
    expect(parseCli(['--local', '--emulator'])).toMatchObject({ dest: './exports-demo' });
    expect(parseCli(['--local', '--api-url', 'https://api.linkedin.com/v2'])).toMatchObject({
      emulator: false,
      dest: './exports',
    });
  });

  it('the download idle timeout follows --time-scale (with a floor)', () => {
    const defaults = parseSettings({});
    expect(scaledIdleTimeout(defaults, 1)).toBe(60_000);
    expect(scaledIdleTimeout(defaults, 0.5)).toBe(30_000);
    expect(scaledIdleTimeout(defaults, 0.001)).toBe(2_000);
  });
});

describe('against a separately started LinkedIn', () => {
  let emulator: Emulator;
  let env: NodeJS.ProcessEnv;
  const api = (dest: string, more: string[] = []) => [
    ...['--local', '--api-url', emulator.url, '--allow-download-host', '127.0.0.1:*', '--dest', dest],
    ...[...RANGE, '--contract', EMEA, '--datasets', 'seat', '--time-scale', '0.0005', ...more],
  ];
  beforeAll(async () => {
    emulator = await startEmulator({ jobTimings: { queuedMs: 10, processingMs: 10 } });
    env = { LINKEDIN_ACCESS_TOKEN: emulator.token };
  });
  afterAll(() => emulator.close());

  it('emulator data never counts as coverage for a real run; both manifests and objects record the source', async () => {
    const dest = await tempDir();
    const demo = await cli([
      '--local',
      '--emulator',
      '--dest',
      dest,
      ...RANGE,
      '--contract',
      EMEA,
      '--datasets',
      'seat',
    ]);
    expect(demo.code).toBe(EXIT.ok);
    const [fromDemo] = await manifestsIn(dest);
    expect(fromDemo).toMatchObject({ source: 'emulator', apiHost: expect.stringMatching(/^127\.0\.0\.1:/) });
    const key = fromDemo?.items[0]?.key as string;
    const sidecar = join(dest, key.replace(/([^/]+)$/, '.$1.metadata.json'));
    expect(JSON.parse(await readFile(sidecar, 'utf8'))).toMatchObject({ source: 'emulator' });

    const jobs = emulator.jobs().length;
    const real = await cli(api(dest), env);
    expect(real.code).toBe(EXIT.ok);
    const second = (await manifestsIn(dest)).find((m) => m.runId !== fromDemo?.runId);
    expect(second).toMatchObject({ source: 'linkedin', summary: { planned: 1, exported: 1, skipped: 0 } });
    expect(emulator.jobs().length - jobs).toBe(1);
    expect(JSON.parse(await readFile(sidecar, 'utf8'))).toMatchObject({ source: 'linkedin' });
  });

  it('--contract that is not the token’s is named by value, with the ones it has, before any job', async () => {
    const jobs = emulator.jobs().length;
    const run = await cli(api(await tempDir(), ['--contract', 'urn:li:salesContract:4242']), env);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err[0]).toContain('--contract urn:li:salesContract:4242 is not a contract of this token');
    expect(run.err[0]).toContain(EMEA);
    expect(emulator.jobs().length).toBe(jobs);
  });

  it('a destination that is a file, or cannot be created, exits 2 before any LinkedIn call', async () => {
    const dir = await tempDir();
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const requests = emulator.requests.length;
    const asFile = await cli(api(file), env);
    expect(asFile.code).toBe(EXIT.usage);
    expect(asFile.err[0]).toContain('is a file, not a folder');
    const blocked = await cli(api(join(file, 'below')), env);
    expect(blocked.code).toBe(EXIT.usage);
    expect(blocked.err[0]).toMatch(/cannot create the folder \(\w+\): choose a folder you can write to/);
    if (process.platform === 'linux') {
      // Node's recursive mkdir never returns under /proc: the CLI used to hang here.
      const proc = await cli(api('/proc/salesnav-export-test/out'), env);
      expect(proc.code).toBe(EXIT.usage);
      expect(proc.err[0]).toContain('cannot create the folder (ENOENT)');
    }
    expect(emulator.requests.length).toBe(requests);
  });

  it('a destination locked by a live run exits 2 naming the holder, without creating a job', async () => {
    const dest = await tempDir();
    const holder = {
      pid: process.pid,
      host: hostname(),
      runId: 'local-holder',
      startedAt: new Date().toISOString(),
    };
    await writeFile(join(dest, '.salesnav-export.lock'), JSON.stringify(holder));
    const jobs = emulator.jobs().length;
    const run = await cli(api(dest), env);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err[0]).toContain(`run local-holder, pid ${process.pid} on ${hostname()}`);
    expect(emulator.jobs().length).toBe(jobs);
  });

  it('removes the temp files of a killed run; --output json prints one JSON document', async () => {
    const dest = await tempDir();
    const stale = join(dest, 'sales-navigator', '.seat.csv.0000.partial');
    await rm(stale, { force: true });
    await import('node:fs/promises').then((fs) =>
      fs.mkdir(join(dest, 'sales-navigator'), { recursive: true }),
    );
    await writeFile(stale, 'half a file');
    const run = await cli(api(dest, ['--output', 'json']), env);
    expect(run.code).toBe(EXIT.ok);
    expect(run.err.join('\n')).toContain('Removed 1 unfinished temp file(s)');
    expect(await readdir(join(dest, 'sales-navigator'))).not.toContain('.seat.csv.0000.partial');
    expect(run.out).toHaveLength(1);
    const doc = JSON.parse(run.out[0] as string);
    expect(doc).toMatchObject({
      status: 'SUCCEEDED',
      exitCode: 0,
      runs: [{ status: 'SUCCEEDED', summary: { exported: 1 } }],
    });
    expect(doc.items).toHaveLength(1);
  });

  it('progress says what the jobs are doing and when the next poll is', async () => {
    const run = await cli(api(await tempDir()), env);
    expect(
      run.err.some((l) => /seat \S+ \[2024-05-01, 2024-05-03\): job \d+ ENQUEUED, next poll in /.test(l)),
    ).toBe(true);
  });

  it('a download host that is not allowed stops the run at the first refusal, naming --allow-download-host', async () => {
    const dest = await tempDir();
    // One lane of 4 windows (one after another): only the first window's job may be created.
    const argv = api(dest, ['--from', '2024-01-01', '--to', '2024-10-01']).filter(
      (a, i, all) => a !== '127.0.0.1:*' && all[i + 1] !== '127.0.0.1:*',
    );
    const jobs = emulator.jobs().length;
    const run = await cli(argv, env);
    expect(run.code).toBe(EXIT.usage);
    expect(run.err.at(-1)).toMatch(
      /stopped: at the first refused download.*--allow-download-host 127\.0\.0\.1/,
    );
    expect(emulator.jobs().length - jobs).toBe(1);
    const [manifest] = await manifestsIn(dest);
    expect(manifest?.items.map((i) => i.status)).toEqual([
      'FAILED',
      'NOT_STARTED',
      'NOT_STARTED',
      'NOT_STARTED',
    ]);
  });

  it('in-process: an abort stops the run, the manifest lists what finished, the rerun does the rest', async () => {
    const dest = await tempDir();
    const argv = [
      ...['--local', '--api-url', emulator.url, '--allow-download-host', '127.0.0.1:*', '--dest', dest],
      ...['--from', '2024-01-01', '--to', '2024-10-01', '--contract', EMEA, '--time-scale', '0.002'],
    ];
    const controller = new AbortController();
    const err: string[] = [];
    const jobs = emulator.jobs().length;
    const code = await main(argv, env, {
      out: () => {},
      err: (l) => {
        err.push(l);
        if (/ exported \(\d+ rows/.test(l)) controller.abort();
      },
      signal: controller.signal,
    });
    expect(code).toBe(EXIT.failed);
    const [stopped] = await manifestsIn(dest);
    expect(stopped?.interrupted).toBe(true);
    const done = stopped?.items.filter((i) => i.status === 'EXPORTED').length ?? 0;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(12);
    expect(stopped?.items.some((i) => i.status === 'NOT_STARTED')).toBe(true);
    expect(stopped?.items.some((i) => i.status === 'FAILED')).toBe(false);
    const created = emulator.jobs().length - jobs;
    expect(created).toBeLessThan(12);

    const rerun = await cli(argv, env);
    expect(rerun.code).toBe(EXIT.ok);
    const second = (await manifestsIn(dest)).find((m) => m.runId !== stopped?.runId);
    expect(second?.summary).toMatchObject({ planned: 12, skipped: done, exported: 12 - done, failed: 0 });
  });

  it('an unreachable --api-url and a refused token are named with the fix', async () => {
    const down = await cli(
      ['--local', '--api-url', 'http://127.0.0.1:9/v2', '--dest', await tempDir(), ...RANGE],
      { LINKEDIN_ACCESS_TOKEN: 'x'.repeat(20) },
    );
    expect(down.code).toBe(EXIT.usage);
    expect(down.err[0]).toContain('cannot reach the LinkedIn API at http://127.0.0.1:9/v2');
    expect(down.err[0]).toContain('Check --api-url');
    const refused = await cli(api(await tempDir()), { LINKEDIN_ACCESS_TOKEN: 'not-the-token' });
    expect(refused.err[0]).toContain('LINKEDIN_ACCESS_TOKEN');
    expect(refused.err[0]).not.toContain('update the secret');
  });
});

describe('an S3 destination is checked before anything else', () => {
  const names = [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ENDPOINT_URL_S3',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
  ];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  const set = (values: Record<string, string>) => {
    for (const n of names) delete process.env[n];
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    Object.assign(process.env, values);
  };
  afterEach(() => {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });
  const run = () => cli(['--local', '--emulator', '--dest', 's3://my-bucket/exports', ...RANGE], {});

  it('a reachable endpoint (s3rver): the run exports there, holding and then releasing the lock object', async () => {
    const s3 = await startS3rver();
    try {
      set({
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      });
      const r = await cli([
        '--local',
        '--emulator',
        '--dest',
        `s3://${s3.bucket}/exports`,
        ...RANGE,
        '--datasets',
        'seat',
      ]);
      expect(r.code).toBe(EXIT.ok);
      const listed = await s3.client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'exports/' }),
      );
      const keys = (listed.Contents ?? []).map((o) => o.Key);
      expect(keys.filter((k) => k?.endsWith('seat.csv'))).toHaveLength(2);
      expect(keys).not.toContain('exports/.salesnav-export.lock');
    } finally {
      await s3.close();
    }
  }, 60_000);

  it('no region: exit 2 naming AWS_REGION', async () => {
    set({});
    const r = await run();
    expect(r.code).toBe(EXIT.usage);
    expect(r.err[0]).toContain('set AWS_REGION');
    expect(r.text).not.toContain('built-in LinkedIn emulator'); // checked before the emulator starts
  });

  it('no credentials: exit 2 naming AWS_PROFILE', async () => {
    set({ AWS_REGION: 'eu-west-1' });
    const r = await run();
    expect(r.code).toBe(EXIT.usage);
    expect(r.err[0]).toContain('no AWS credentials found: set AWS_PROFILE');
  });

  it('an unreachable endpoint: exit 2 naming S3, the endpoint and what to check', async () => {
    set({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    });
    const r = await run();
    expect(r.code).toBe(EXIT.usage);
    expect(r.err[0]).toContain(
      'cannot reach S3 (s3://my-bucket/exports via http://127.0.0.1:9): ECONNREFUSED',
    );
  }, 30_000);
});

describe('AWS mode', () => {
  const sfn = mockClient(SFNClient);
  const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ExportRun';
  const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:ExportRun:cli-1';
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
  });
  afterAll(() => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });
  afterEach(() => sfn.reset());

  it('--no-wait starts the execution, prints its console URL and returns', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    const run = await cli(['--state-machine-arn', ARN, '--no-wait', '--output', 'json']);
    expect(run.code).toBe(EXIT.ok);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(run.err.join('\n')).toContain(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(EXECUTION)}`,
    );
    expect(JSON.parse(run.out[0] as string)).toMatchObject({ executionArn: EXECUTION, status: 'RUNNING' });
  });

  it('Ctrl-C stops following at once and says how to stop the execution; --stop stops it', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' } as never);
    const controller = new AbortController();
    const following = cli(
      ['--state-machine-arn', ARN],
      { EXPORT_POLL_MS: '600000' },
      { signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const run = await following;
    expect(run.code).toBe(EXIT.failed);
    expect(run.err.join('\n')).toContain(`To stop it: npm run export -- --stop ${EXECUTION}`);

    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    const stop = await cli(['--stop', EXECUTION]);
    expect(stop.code).toBe(EXIT.ok);
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input).toMatchObject({
      executionArn: EXECUTION,
    });
  });
});
