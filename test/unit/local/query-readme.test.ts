import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayToMs } from '#common/days';
import { DATASETS } from '#common/model';
import { csvBuffer } from '#local/emulator/csv';
import { DEMO_SUMMARY_SQL } from '#local/query/demo-summary';
import { columnDictionary } from '#local/query/dictionary';
import { LocalLake } from '#local/query/lake';
import { itemKey } from '#storage/keys';

const README = resolve(import.meta.dirname, '../../../README.md');

async function readmeSection(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf('## Query your data');
  expect(start).toBeGreaterThan(0);
  return text.slice(start, text.indexOf('\n## ', start + 1));
}

describe('README "Query your data"', () => {
  let root: string;
  let lake: LocalLake;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'query-readme-'));
    for (const contract of ['urn:li:salesContract:1001', 'urn:li:salesContract:1002']) {
      for (const dataset of DATASETS) {
        const path = join(root, itemKey({ contract, dataset, start: '2026-10-01', end: '2026-10-15' }));
        await mkdir(dirname(path), { recursive: true });
        const spec = {
          contract,
          dataset,
          startMs: dayToMs('2026-10-01'),
          endMs: dayToMs('2026-10-15'),
          rowsPerDay: 8,
        };
        await writeFile(path, csvBuffer(spec));
      }
    }
    lake = await LocalLake.open(root);
  });
  afterAll(async () => {
    lake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('holds the column dictionary generated from the export schemas', async () => {
    const section = await readmeSection();
    const between = /<!-- column-dictionary:start -->\n([\s\S]*?)\n<!-- column-dictionary:end -->/.exec(
      section,
    );
    expect(
      between?.[1],
      'README column dictionary: paste columnDictionary() of local/query/dictionary.ts',
    ).toBe(columnDictionary());
  });

  it('every SQL example runs in DuckDB over an export and returns rows', async () => {
    const examples = [...(await readmeSection()).matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(examples).toHaveLength(4);
    for (const sql of [...examples, DEMO_SUMMARY_SQL]) {
      const result = await lake.query(sql);
      expect(result.rows.length, sql).toBeGreaterThan(0);
    }
  });

  it('the outcome rate example counts each activity once', async () => {
    const examples = [...(await readmeSection()).matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const rate = await lake.query(examples[3] ?? '');
    const total = rate.rows.reduce((n, row) => n + Number(row[1]), 0);
    expect(total).toBe(2 * 14 * 8);
  });
});
