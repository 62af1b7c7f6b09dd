// Benchmarks (`npm run bench`): Step Functions transitions per item and streaming-copy memory.
/**
 * `npm run bench`: measurements, never pass/fail tests.
 *   1. Step Functions cost: state transitions (what Standard workflows bill) per exported item, through
 *      the real definitions on the local executor, with LinkedIn timings scaled down 1000×.
 *   2. Streaming copy: throughput and peak memory of CopyToS3's core on a large CSV, to show memory
 *      stays flat whatever the file size (no buffering, no /tmp).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '#common/powertools';
import { parseSettings } from '#common/settings';
import type { LinkedInApi } from '#linkedin/api';
import { localDeps } from '#local/deps';
import { startEmulator } from '#local/emulator/server';
import { runExportLocally } from '#local/executor';
import { FolderStore } from '#local/folder-store';
import { copyExportToStore } from '#steps/copy';

logger.setLogLevel('SILENT');
const PRICE_PER_1000_TRANSITIONS = 0.025; // USD, Step Functions Standard (us-east-1)
const TIME_SCALE = 0.001;

async function transitionsPerItem(
  label: string,
  queuedSeconds: number,
  processingSeconds: number,
): Promise<string[]> {
  const emulator = await startEmulator({
    jobTimings: {
      queuedMs: queuedSeconds * 1000 * TIME_SCALE,
      processingMs: processingSeconds * 1000 * TIME_SCALE,
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'bench-sfn-'));
  try {
    const settings = parseSettings({ apiBaseUrl: emulator.url, allowedDownloadHosts: ['127.0.0.1'] });
    const result = await runExportLocally(
      { from: '2026-10-01', to: '2026-10-02' },
      {
        deps: localDeps({ settings, token: emulator.token, store: new FolderStore(dir) }),
        timeScale: TIME_SCALE,
      },
    );
    const items = result.stats.executions - 1;
    const perItem = result.stats.transitions / items;
    const polls = emulator.requests.filter(
      (r) => r.method === 'GET' && r.path.includes('/salesAnalyticsExportJobs/'),
    ).length;
    return [
      label,
      String(items),
      perItem.toFixed(1),
      (polls / items).toFixed(1),
      `$${((perItem * 1000 * PRICE_PER_1000_TRANSITIONS) / 1000).toFixed(4)}`,
      `$${((perItem * items * 30 * PRICE_PER_1000_TRANSITIONS) / 1000).toFixed(3)}`,
    ];
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function copyThroughput(megabytes: number): Promise<string[]> {
  const line = Buffer.from(
    '1234567890,PROFILE_VIEWED,10-01-2026 12:00:00 UTC,98765,member-identity-key-abcdef\n',
  );
  const rows = Math.ceil((megabytes * 1024 * 1024) / line.length);
  const header = Buffer.from('activityId,activityType,createdAt,seatId,memberIdentityKey\n');
  const total = header.length + rows * line.length;
  const chunk = Buffer.concat(Array.from({ length: 1024 }, () => line));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': total });
    res.write(header);
    let left = rows;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(1024, left);
        left -= n;
        if (!res.write(n === 1024 ? chunk : chunk.subarray(0, n * line.length))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const dir = await mkdtemp(join(tmpdir(), 'bench-copy-'));
  const linkedin: LinkedInApi = {
    listContracts: async () => [],
    createExportJob: async () => ({ id: 1, status: 'ENQUEUED' }),
    getExportJob: async () => ({
      id: 1,
      status: 'COMPLETED',
      downloadUrl: `http://127.0.0.1:${port}/export.csv?sig=secret`,
      expireAt: Date.now() + 3_600_000,
      rowCount: rows,
    }),
  };
  let peakRss = 0;
  const baseline = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const started = process.hrtime.bigint();
  try {
    const result = await copyExportToStore(
      {
        item: {
          contract: 'urn:li:salesContract:1',
          dataset: 'activity',
          start: '2026-10-01',
          end: '2026-10-02',
        },
        jobId: 1,
        key: 'bench/activity.csv',
      },
      {
        linkedin,
        store: new FolderStore(dir),
        settings: parseSettings({ allowedDownloadHosts: ['127.0.0.1'] }),
        now: () => new Date(),
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return [
      `${megabytes} MiB`,
      result.rows.toLocaleString('en-US'),
      `${(result.bytes / 1024 / 1024 / seconds).toFixed(0)} MiB/s`,
      `${((peakRss - baseline) / 1024 / 1024).toFixed(0)} MiB`,
    ];
  } finally {
    clearInterval(sampler);
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function print(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n${fmt(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(fmt(row));
}

print(
  'Step Functions transitions per item (1 day × 2 contracts × 3 datasets; LinkedIn timings as listed)',
  ['LinkedIn job time', 'items', 'transitions/item', 'polls/item', 'cost/1000 items', 'cost/month (daily)'],
  [
    await transitionsPerItem('1 min queued + 2 min processing', 60, 120),
    await transitionsPerItem('10 min queued + 20 min processing', 600, 1200),
    await transitionsPerItem('1 h queued + 2 h processing', 3600, 7200),
  ],
);
print(
  'Streaming copy (CopyToS3 core → local folder)',
  ['file', 'rows', 'throughput', 'peak RSS growth'],
  [await copyThroughput(64), await copyThroughput(512)],
);
