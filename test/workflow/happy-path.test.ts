import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DATASETS } from '#common/model';
import { crc32Base64 } from '#storage/checksum';
import { itemKey } from '#storage/keys';
import {
  CONTRACT_NO_ACCESS,
  DESTINATIONS,
  FROM,
  item,
  laneJobs,
  REPORTABLE,
  recordOf,
  TO,
  workflowEnvs,
} from '#test/support/workflow';

const start = workflowEnvs();

describe.each(DESTINATIONS)('a complete run into %s', (destination) => {
  it('exports every dataset of every reportable contract, byte for byte, and writes the manifest', async () => {
    const env = await start({ destination });
    const { result, manifest, events } = await env.run({ from: FROM, to: TO }, 'run-happy');

    expect(result).toMatchObject({ runId: 'run-happy', status: 'SUCCEEDED' });
    expect(result.error).toBeUndefined();
    const expectedItems = REPORTABLE.flatMap((contract) =>
      DATASETS.map((dataset) => item(contract, dataset)),
    );
    expect(events).toContainEqual({
      type: 'planned',
      runId: 'run-happy',
      planned: 6,
      skipped: 0,
      toExport: 6,
    });

    let totalBytes = 0;
    let totalRows = 0;
    for (const it of expectedItems) {
      const expected = env.expectedCsv(it);
      const key = itemKey(it);
      const stored = await env.destination.read(key);
      expect(stored?.equals(expected), `${key} holds the served bytes`).toBe(true);

      const rows = expected.toString('utf8').trimEnd().split('\n').length - 1;
      expect(rows).toBeGreaterThan(0);
      const jobs = laneJobs(env.emulator, it.contract, it.dataset);
      expect(jobs).toHaveLength(1);
      expect(recordOf(manifest, it)).toEqual({
        contract: it.contract,
        dataset: it.dataset,
        window: { start: FROM, end: TO },
        status: 'EXPORTED',
        key,
        bytes: expected.length,
        rows,
        rowCount: rows,
        // On S3, the CRC32 that S3 verified; a consumer checks the file against it.
        ...(destination === 's3' && {
          checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc32Base64(crc32(expected)) },
        }),
        // Activity files: the createdAt self-check ran, and found every row inside the window.
        ...(it.dataset === 'activity' && {
          createdAt: expect.objectContaining({ outsideWindow: 0, unreadable: 0 }),
        }),
        jobIds: [jobs[0]?.id],
        attempts: 1,
        finishedAt: expect.any(String),
      });
      totalBytes += expected.length;
      totalRows += rows;

      // Both stores keep the data's source as a tag (a folder in its hidden sidecar), which coverage reads.
      expect(await env.destination.store.tagsOf(key)).toMatchObject({ source: 'linkedin' });
      if (destination === 's3')
        expect(await env.destination.store.tagsOf(key)).toEqual({ source: 'linkedin' });
      if (destination === 's3') {
        expect(await env.destination.metadata(key)).toEqual({
          source: 'linkedin',
          apihost: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
          jobid: String(jobs[0]?.id),
          rowcount: String(rows),
          dataset: it.dataset,
          contract: it.contract,
          windowstart: FROM,
          windowend: TO,
          runid: 'run-happy',
        });
      }
    }

    expect(manifest).toMatchObject({
      version: 1,
      runId: 'run-happy',
      window: { from: FROM, to: TO },
      contracts: [...REPORTABLE],
      datasets: [...DATASETS],
      force: false,
      summary: { planned: 6, exported: 6, skipped: 0, failed: 0, bytes: totalBytes, rows: totalRows },
    });
    expect(manifest?.items).toHaveLength(6);
    expect(result.output).toEqual({
      runId: 'run-happy',
      manifestKey: 'manifests/run-happy.json',
      summary: manifest?.summary,
    });

    // The contract without reporting access is neither planned nor asked for.
    expect(manifest?.contracts).not.toContain(CONTRACT_NO_ACCESS);
    expect(env.emulator.jobs().map((j) => j.contract)).not.toContain(CONTRACT_NO_ACCESS);
    const dataKeys = (await env.destination.allKeys()).filter((k) => !k.startsWith('manifests/'));
    expect(dataKeys).toEqual(expectedItems.map(itemKey).sort());
  });
});
