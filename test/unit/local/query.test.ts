import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dayToMs } from '#common/days';
import type { Dataset } from '#common/model';
import { csvBuffer } from '#local/emulator/csv';
import { LocalLake, UnexpectedHeaderError } from '#local/query/lake';
import { runQueryCli } from '#local/query/main';
import { itemKey } from '#storage/keys';

const A = 'urn:li:salesContract:1001';
const B = 'urn:li:salesContract:1002';
const ROWS_PER_DAY = 6;

let root: string;
let lake: LocalLake | undefined;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'query-'));
});
afterEach(async () => {
  lake?.close();
  lake = undefined;
  await rm(root, { recursive: true, force: true });
});

/** Writes the emulator's file of one export where the exporter would put it. */
async function exportFile(contract: string, dataset: Dataset, start: string, end: string): Promise<Buffer> {
  const path = join(root, itemKey({ contract, dataset, start, end }));
  const body = csvBuffer({
    contract,
    dataset,
    startMs: dayToMs(start),
    endMs: dayToMs(end),
    rowsPerDay: ROWS_PER_DAY,
  });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
  return body;
}

async function query(sql: string) {
  lake ??= await LocalLake.open(root);
  return (await lake.query(sql)).rows;
}

describe('LocalLake', () => {
  it('reads MM-DD-YYYY month first: 11-01-2026 is 1 November, inside its window', async () => {
    const body = await exportFile(A, 'activity', '2026-11-01', '2026-11-02');
    expect(body.toString('utf8')).toContain(',11-01-2026 ');
    expect(
      await query(
        'SELECT count(*), min(createdAt) >= window_start, max(createdAt) < window_end, min(month(createdAt)) FROM activity GROUP BY window_start, window_end',
      ),
    ).toEqual([[ROWS_PER_DAY, true, true, 11]]);
    expect(await query('SELECT DISTINCT window_start::VARCHAR, window_end::VARCHAR FROM activity')).toEqual([
      ['2026-11-01', '2026-11-02'],
    ]);
  });

  it('types every column as the schema says', async () => {
    await exportFile(A, 'seat', '2026-11-01', '2026-11-02');
    await exportFile(A, 'activity', '2026-11-01', '2026-11-02');
    await exportFile(A, 'activityOutcome', '2026-11-01', '2026-11-02');
    lake = await LocalLake.open(root);
    const types = async (view: string) =>
      Object.fromEntries(
        (
          await lake?.query(
            `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${view}'`,
          )
        )?.rows ?? [],
      );
    expect(await types('activity')).toMatchObject({
      contract_id: 'VARCHAR',
      activity_key: 'VARCHAR',
      createdAt: 'TIMESTAMP',
      seatId: 'BIGINT',
      window_start: 'DATE',
      window_end: 'DATE',
    });
    expect(await types('seat')).toMatchObject({
      socialSellingIndex: 'DOUBLE',
      totalConnections: 'BIGINT',
      reportDate: 'DATE',
    });
    expect(await types('activity_outcome')).toMatchObject({
      createdAt: 'TIMESTAMP',
      activity_key: 'VARCHAR',
    });
    expect(Object.keys(await types('seat'))).not.toContain('contract');
  });

  it('takes the contract from the folder; activityIds that repeat across contracts stay distinct rows', async () => {
    await exportFile(A, 'activity', '2026-11-01', '2026-11-03');
    await exportFile(B, 'activity', '2026-11-01', '2026-11-03');
    expect(
      await query('SELECT count(DISTINCT activityId), count(DISTINCT activity_key), count(*) FROM activity'),
    ).toEqual([[2 * ROWS_PER_DAY, 4 * ROWS_PER_DAY, 4 * ROWS_PER_DAY]]);
    expect(await query('SELECT contract_id, count(*) FROM activity GROUP BY 1 ORDER BY 1')).toEqual([
      ['1001', 2 * ROWS_PER_DAY],
      ['1002', 2 * ROWS_PER_DAY],
    ]);
  });

  it('keeps one row per activity, outcome event and seat-day when forced exports overlap', async () => {
    for (const dataset of ['seat', 'activity', 'activityOutcome'] as const) {
      await exportFile(A, dataset, '2026-11-01', '2026-11-04');
      await exportFile(A, dataset, '2026-11-03', '2026-11-06'); // 11-03 is in both files
    }
    const days = 5;
    expect(await query('SELECT count(*) FROM activity_csv')).toEqual([[6 * ROWS_PER_DAY]]);
    expect(await query('SELECT count(*), count(DISTINCT activity_key) FROM activity')).toEqual([
      [days * ROWS_PER_DAY, days * ROWS_PER_DAY],
    ]);
    expect(await query('SELECT count(*) FROM activity_outcome')).toEqual([[days * ROWS_PER_DAY]]);
    expect(await query('SELECT count(*), count(DISTINCT (seat_key, reportDate)) FROM seat')).toEqual([
      [days * ROWS_PER_DAY, days * ROWS_PER_DAY],
    ]);
    // The copy of the latest window is the one kept.
    expect(
      await query(
        "SELECT DISTINCT window_start::VARCHAR FROM activity WHERE createdAt::DATE = DATE '2026-11-03'",
      ),
    ).toEqual([['2026-11-03']]);
  });

  it('memberIdentityKey is NULL, not empty text, for activities not about a lead', async () => {
    await exportFile(A, 'activity', '2026-11-01', '2026-11-11');
    const rows = await query(
      "SELECT activityType, count(*) FILTER (WHERE memberIdentityKey IS NULL), count(*) FILTER (WHERE memberIdentityKey = '') FROM activity GROUP BY 1 ORDER BY 1",
    );
    for (const [type, nulls, empties] of rows) {
      expect(empties).toBe(0);
      if (type === 'SAVED_ACCOUNT' || type === 'SEARCH_PERFORMED') expect(nulls).toBeGreaterThan(0);
      else expect(nulls).toBe(0);
    }
  });

  it('an export folder without files gives empty views', async () => {
    expect(await query('SELECT count(*) FROM activity')).toEqual([[0]]);
    expect(await query('SELECT count(*) FROM seat')).toEqual([[0]]);
    expect(await query('SELECT count(*) FROM activity_outcome')).toEqual([[0]]);
  });

  it('ignores files that are not export files, such as a half-written .partial', async () => {
    await exportFile(A, 'activity', '2026-11-01', '2026-11-02');
    const partial = join(
      root,
      itemKey({ contract: A, dataset: 'activity', start: '2026-11-02', end: '2026-11-03' }),
    );
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(`${partial}.partial`, 'activityId,act');
    expect(await query('SELECT count(*) FROM activity')).toEqual([[ROWS_PER_DAY]]);
  });

  it('refuses a file whose header is not the dataset’s, naming the file and the fix', async () => {
    const path = join(
      root,
      itemKey({ contract: A, dataset: 'seat', start: '2026-11-01', end: '2026-11-02' }),
    );
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'seatId,contract,memberIdentityKey\n1,urn:li:salesContract:1001,x\n');
    const err = await LocalLake.open(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnexpectedHeaderError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain('--force');
  });
});

describe('npm run query', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  };

  it('prints a readable table, numbers right-aligned', async () => {
    await exportFile(A, 'activity', '2026-11-01', '2026-11-02');
    const { out, io: cli } = io();
    expect(
      await runQueryCli(['--dest', root, 'SELECT contract_id, count(*) AS n FROM activity GROUP BY 1'], cli),
    ).toBe(0);
    expect(out.join('\n')).toBe(
      ['contract_id  n', '-----------  -', `1001         ${ROWS_PER_DAY}`, '(1 row)'].join('\n'),
    );
  });

  it('--json prints objects keyed by column', async () => {
    await exportFile(A, 'activity', '2026-11-01', '2026-11-02');
    const { out, io: cli } = io();
    expect(
      await runQueryCli(
        ['--json', '--dest', root, 'SELECT activityId, seatId FROM activity ORDER BY 1 LIMIT 1'],
        cli,
      ),
    ).toBe(0);
    const rows = JSON.parse(out.join('\n'));
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0])).toEqual(['activityId', 'seatId']);
    expect(typeof rows[0].seatId).toBe('number');
  });

  it('exit 1 with DuckDB’s message for a bad query, 2 without SQL or for an s3:// destination', async () => {
    const bad = io();
    expect(await runQueryCli(['--dest', root, 'SELECT nope FROM activity'], bad.io)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/error: .*nope/);
    expect(await runQueryCli(['--dest', root], io().io)).toBe(2);
    expect(await runQueryCli(['--dest', 's3://bucket/prefix', 'SELECT 1'], io().io)).toBe(2);
    expect(await runQueryCli(['--bogus', 'SELECT 1'], io().io)).toBe(2);
    const missing = io();
    expect(await runQueryCli(['--dest', join(root, 'nope'), 'SELECT 1'], missing.io)).toBe(2);
    expect(missing.err.join('\n')).toContain(`no export folder at ${join(root, 'nope')}`);
  });
});
