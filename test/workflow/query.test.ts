import { describe, expect, it } from 'vitest';
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import { DATASETS } from '#common/model';
import type { FolderStore } from '#local/folder-store';
import { LocalLake } from '#local/query/lake';
import { contractId } from '#storage/keys';
import { FROM, REPORTABLE, TO, workflowEnvs } from '#test/support/workflow';

const start = workflowEnvs();

/** Rows of one dataset per contract id in a lake view or raw table. */
async function countsByContract(lake: LocalLake, from: string): Promise<Record<string, number>> {
  const column = from.endsWith('_csv') ? '"contract"' : 'contract_id';
  const { rows } = await lake.query(`SELECT ${column}, count(*) FROM ${from} GROUP BY 1 ORDER BY 1`);
  return Object.fromEntries(rows.map(([id, n]) => [String(id), Number(n)]));
}

describe('querying a real local export with DuckDB', () => {
  it('the views hold exactly the rows the manifest counts, per dataset and contract', async () => {
    const env = await start({ destination: 'folder' });
    const { result, manifest } = await env.run({ from: FROM, to: TO }, 'run-query');
    expect(result.status).toBe('SUCCEEDED');
    const root = (env.destination.store as FolderStore).location;

    const lake = await LocalLake.open(root);
    try {
      for (const dataset of DATASETS) {
        const expected = Object.fromEntries(
          REPORTABLE.map((contract) => {
            const records = (manifest?.items ?? []).filter(
              (r) => r.contract === contract && r.dataset === dataset,
            );
            return [contractId(contract), records.reduce((sum, r) => sum + (r.rows ?? 0), 0)];
          }),
        );
        expect(Object.values(expected).every((n) => n > 0)).toBe(true);
        expect(await countsByContract(lake, EXPORT_SCHEMAS[dataset].view), dataset).toEqual(expected);
      }
      const { rows } = await lake.query(
        `SELECT min(createdAt) >= DATE '${FROM}', max(createdAt) < DATE '${TO}', count(*) FILTER (WHERE createdAt IS NULL) FROM activity`,
      );
      expect(rows).toEqual([[true, true, 0]]);
    } finally {
      lake.close();
    }
  });

  it('a forced export over an overlapping window adds files, not rows to the views', async () => {
    const env = await start({ destination: 'folder' });
    const first = await env.run({ from: FROM, to: TO, datasets: ['activity'] }, 'run-first');
    // One day later and one day longer: two of its days are in the first window too.
    const second = await env.run(
      { from: '2026-10-02', to: '2026-10-05', datasets: ['activity'], force: true },
      'run-overlap',
    );
    expect([first.result.status, second.result.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const exported = [...(first.manifest?.items ?? []), ...(second.manifest?.items ?? [])];
    const fileRows = exported.reduce((sum, r) => sum + (r.rows ?? 0), 0);
    const rowsPerDayAndContract = (first.manifest?.items[0]?.rows ?? 0) / 3;

    const lake = await LocalLake.open((env.destination.store as FolderStore).location);
    try {
      expect(Object.values(await countsByContract(lake, 'activity_csv')).reduce((a, b) => a + b, 0)).toBe(
        fileRows,
      );
      const days = 4; // 2026-10-01 .. 2026-10-04
      expect(await countsByContract(lake, 'activity')).toEqual(
        Object.fromEntries(REPORTABLE.map((c) => [contractId(c), days * rowsPerDayAndContract])),
      );
      const { rows } = await lake.query('SELECT count(*) - count(DISTINCT activity_key) FROM activity');
      expect(rows).toEqual([[0]]);
    } finally {
      lake.close();
    }
  });
});
