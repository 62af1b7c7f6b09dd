// Benchmarks (`npm run bench`): Step Functions transitions per item, and the copy against rclone and the AWS CLI.
/**
 * `npm run bench`: measurements, never pass/fail tests.
 *   1. Step Functions cost: state transitions (what Standard workflows bill) per exported item, through
 *      the real definitions on the local executor, with LinkedIn timings scaled down 1000×.
 *   2. Copy: CopyToS3's core, bundled as Lambda runs it, against `rclone copyurl` and
 *      `curl | aws s3 cp -` into a discard S3 sink, and against `curl -o` into a folder (bench/copy/).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '#common/powertools';
import { parseSettings } from '#common/settings';
import { localDeps } from '#local/deps';
import { startEmulator } from '#local/emulator/server';
import { runExportLocally } from '#local/executor';
import { FolderStore } from '#local/folder-store';
import { CACHE_DIR, copyBenchmark } from './copy/compare.ts';

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

function print(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n${fmt(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(fmt(row));
}

// `npm run bench -- [sfn] [copy] [--sizes 1,3] [--runs 3]`: both sections by default.
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const sections = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const wants = (section: string) => sections.length === 0 || sections.includes(section);

if (wants('sfn')) {
  print(
    'Step Functions transitions per item (1 day × 2 contracts × 3 datasets; LinkedIn timings as listed)',
    ['LinkedIn job time', 'items', 'transitions/item', 'polls/item', 'cost/1000 items', 'cost/month (daily)'],
    [
      await transitionsPerItem('1 min queued + 2 min processing', 60, 120),
      await transitionsPerItem('10 min queued + 20 min processing', 600, 1200),
      await transitionsPerItem('1 h queued + 2 h processing', 3600, 7200),
    ],
  );
}
if (wants('copy')) {
  const tables = await copyBenchmark({
    sizesGiB: (flag('--sizes') ?? '1,3').split(',').map(Number),
    runs: Number(flag('--runs') ?? 3),
  });
  for (const table of tables) print(table.title, table.header, table.rows);
  console.log(
    `\nCPU s/GiB: user + system of every process of the contestant (curl and aws together); peak RSS: its largest process.\nSource and sink run in their own processes and are not counted. Files are cached in ${CACHE_DIR}.`,
  );
}
