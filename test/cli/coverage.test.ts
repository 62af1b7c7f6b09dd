// `npm run export -- coverage`: the calendar, the JSON, the exit codes, folder and S3 destinations.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CoverageReport } from '#local/cli/coverage';
import { type CliIo, EXIT, main, USAGE } from '#local/cli/main';
import { itemKey } from '#storage/keys';
import { startS3rver } from '#test/support/s3rver';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, more: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l), ...more });
  return { code, out, err, text: [...out, ...err].join('\n') };
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const A = 'urn:li:contract:1001';
const key = (dataset: 'seat' | 'activity' | 'activityOutcome', start: string, end: string, contract = A) =>
  itemKey({ contract, dataset, start, end });

/** A folder as an earlier version left it: objects without metadata sidecars (they count as linkedin). */
async function lake(keys: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'salesnav-coverage-'));
  dirs.push(dir);
  for (const k of keys) {
    await mkdir(dirname(join(dir, k)), { recursive: true });
    await writeFile(join(dir, k), k.includes('2024-02-10') ? '' : 'a,b\n1,2\n'); // one 0-byte empty export
  }
  return dir;
}

const ALL_DATASETS = (start: string, end: string) =>
  (['seat', 'activity', 'activityOutcome'] as const).map((d) => key(d, start, end));

describe('coverage report', () => {
  it('prints a calendar per lane and month, lists the gaps, and exits 1 when a day is missing', async () => {
    const dir = await lake([
      ...ALL_DATASETS('2024-01-20', '2024-02-10'),
      key('seat', '2024-02-10', '2024-03-02'),
      key('activity', '2024-02-10', '2024-02-20'),
      key('activity', '2024-02-25', '2024-03-02'),
      key('activityOutcome', '2024-02-10', '2024-03-02'),
    ]);

    const r = await cli(['coverage', '--dest', dir, '--from', '2024-01-25', '--to', '2024-03-02']);

    expect(r.code).toBe(EXIT.failed);
    const at = (prefix: string) => r.out.indexOf(r.out.find((l) => l.startsWith(prefix)) as string);
    const activity = at('contract=1001 activity');
    expect(r.out[activity]).toBe('contract=1001 activity: 32/37 days covered');
    // One character per day, day 1 in the first column; blank before the range; 29 days in February 2024.
    expect(r.out[activity + 1]).toBe(`  2024-01 ${' '.repeat(24)}${'#'.repeat(7)}`);
    expect(r.out[activity + 2]).toBe(`  2024-02 ${'#'.repeat(19)}${'.'.repeat(5)}${'#'.repeat(5)}`);
    expect(r.out[activity + 3]).toBe('  2024-03 #');
    expect(r.out[activity + 4]).toBe('  gap [2024-02-20, 2024-02-25) 5 day(s)');
    expect(r.out[at('contract=1001 seat')]).toBe('contract=1001 seat: 37/37 days covered');
    expect(r.out[1]).toContain('legend: # covered  . gap');
    expect(r.out.at(-1)).toBe('5 of 111 lane-days missing: fill them with a run over the gaps (exit 1)');
  });

  it('--json reports the same for tools; a complete range exits 0; the default range is what the lake spans', async () => {
    const dir = await lake([
      ...ALL_DATASETS('2024-02-01', '2024-02-10'),
      ...ALL_DATASETS('2024-02-10', '2024-02-12'),
    ]);

    const r = await cli(['coverage', '--dest', dir, '--json']);

    expect(r.code).toBe(EXIT.ok);
    const report = JSON.parse(r.out.join('\n')) as CoverageReport;
    expect(report.range).toEqual({ from: '2024-02-01', to: '2024-02-12' });
    expect(report).toMatchObject({ source: 'linkedin', days: 33, coveredDays: 33, gapDays: 0 });
    expect(report.lanes[0]).toEqual({
      contract: '1001',
      dataset: 'seat',
      days: 11,
      coveredDays: 11,
      covered: [{ start: '2024-02-01', end: '2024-02-12' }],
      gaps: [],
      foreignObjects: 0,
    });

    const wider = await cli([
      'coverage',
      '--dest',
      dir,
      '--json',
      '--from',
      '2024-01-31',
      '--to',
      '2024-02-12',
      '--datasets',
      'seat',
    ]);
    expect(wider.code).toBe(EXIT.failed);
    expect((JSON.parse(wider.out.join('\n')) as CoverageReport).lanes.map((l) => l.gaps)).toEqual([
      [{ start: '2024-01-31', end: '2024-02-01' }],
    ]);
  });

  it('a --contract without any object is all gap; other sources do not count unless asked for', async () => {
    const dir = await lake(ALL_DATASETS('2024-02-01', '2024-02-03'));
    const sidecar = join(dir, dirname(key('seat', '2024-02-01', '2024-02-03')), '.seat.csv.metadata.json');
    await writeFile(sidecar, JSON.stringify({ source: 'emulator' }));

    const r = await cli([
      'coverage',
      '--dest',
      dir,
      '--json',
      '--contract',
      'urn:li:salesContract:2002',
      '--contract',
      A,
    ]);
    const report = JSON.parse(r.out.join('\n')) as CoverageReport;
    expect(r.code).toBe(EXIT.failed);
    expect(report.lanes.map((l) => [l.contract, l.dataset, l.coveredDays, l.foreignObjects])).toEqual([
      ['2002', 'seat', 0, 0],
      ['2002', 'activity', 0, 0],
      ['2002', 'activityOutcome', 0, 0],
      ['1001', 'seat', 0, 1],
      ['1001', 'activity', 2, 0],
      ['1001', 'activityOutcome', 2, 0],
    ]);
    const demo = await cli(['coverage', '--dest', dir, '--datasets', 'seat', '--source', 'emulator']);
    expect(demo.code).toBe(EXIT.ok);
  });

  it('refuses bad arguments with exit 2, naming the flag', async () => {
    const dir = await lake([]);
    for (const [argv, message] of [
      [['--form', '2024-01-01'], 'unknown option --form (did you mean --from?)'],
      [['--from', '2024-01-01'], '--to: from and to must be given together'],
      [['--source', 'prod'], '--source: must be linkedin or emulator'],
      [['--datasets', 'seats'], '--datasets (one of seat, activity, activityOutcome)'],
      [['--dest', join(dir, 'missing')], 'no such folder'],
    ] as const) {
      const r = await cli([
        'coverage',
        ...((argv as readonly string[]).includes('--dest') ? [] : ['--dest', dir]),
        ...argv,
      ]);
      expect(r.code, argv.join(' ')).toBe(EXIT.usage);
      expect(r.err.join('\n')).toContain(message);
    }
    const empty = await cli(['coverage', '--dest', dir]);
    expect(empty.code).toBe(EXIT.ok);
    expect(empty.out).toEqual([`Coverage of ${dir}: no export objects found (source linkedin).`]);
    expect((await cli(['coverage', '--help'])).out).toEqual([USAGE]);
    expect(USAGE).toContain('npm run export -- coverage');
  });
});

describe('coverage report of an S3 destination (the deployed bucket: s3://<BucketName>/<bucketPrefix>)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('lists the bucket under the prefix and reports its gaps', async () => {
    const s3 = await startS3rver();
    try {
      Object.assign(process.env, {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      });
      for (const k of [key('seat', '2024-03-01', '2024-03-03'), key('seat', '2024-03-04', '2024-03-05')]) {
        await s3.client.send(
          new PutObjectCommand({
            Bucket: s3.bucket,
            Key: `team/${k}`,
            Body: 'a\n',
            Metadata: { source: 'linkedin' },
          }),
        );
      }
      const r = await cli(['coverage', '--dest', `s3://${s3.bucket}/team`, '--datasets', 'seat']);
      expect(r.code).toBe(EXIT.failed);
      expect(r.out).toContain('  2024-03 ##.#');
      expect(r.out).toContain('  gap [2024-03-03, 2024-03-04) 1 day(s)');
    } finally {
      await s3.close();
    }
  });
});
