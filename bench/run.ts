// Benchmarks (`npm run bench`): makespan at scale, transitions per item and notice latency, and the copy against rclone and the AWS CLI.
/**
 * `npm run bench`: measurements, never pass/fail tests.
 *   1. Scale: makespan of a one-day run (every dataset of N contracts) through the real definitions
 *      on the local executor and the emulator, with 20-minute LinkedIn jobs, divided by the makespan
 *      of a single lane: about 1 when every lane runs at once (goal ≤ 1.5 at every size).
 *   2. Step Functions cost and polling latency: state transitions (what Standard workflows bill) per
 *      exported item, and how long after completion a job was noticed.
 *   3. Copy: CopyToS3's core, bundled as Lambda runs it, against `rclone copyurl` and
 *      `curl | aws s3 cp -` into a discard S3 sink, and against `curl -o` into a folder (bench/copy/):
 *      throughput, CPU per GiB and peak memory (flat whatever the file size).
 * Time is scaled: Wait states and Retry intervals are multiplied by the time scale, and the emulator
 * and the steps share a clock that runs 1/scale times faster than real time, so jobs age and are
 * polled as on AWS (the polling policy depends on a job's age). `BENCH_SIZES=2,40` and
 * `BENCH_TIME_SCALE=0.05` override the sizes and the scale of part 1.
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
const MINUTE_MS = 60_000;

/** A clock that runs 1/scale times faster than real time from now on (epoch ms). */
function scaledClock(scale: number): () => number {
  const t0 = Date.now();
  return () => t0 + (Date.now() - t0) / scale;
}

interface RunMeasure {
  /** Wall time of the run on the scaled clock (what it would take on AWS), ms. */
  makespanMs: number;
  items: number;
  transitions: number;
  polls: number;
  /** Per job: time of the first poll that saw it COMPLETED minus its completion, on the scaled clock, ms. */
  noticeLatencyMs: number[];
  peakRssBytes: number;
}

/** One run of the real definitions against a fresh emulator, on a scaled clock. */
async function measureRun(opts: {
  contracts: number;
  datasets?: string[];
  queuedMs: number;
  processingMs: number;
  timeScale: number;
}): Promise<RunMeasure> {
  const clock = scaledClock(opts.timeScale);
  const emulator = await startEmulator({
    contracts: Array.from({ length: opts.contracts }, (_, i) => ({
      contract: `urn:li:salesContract:${100_001 + i}`,
      name: `Contract ${i + 1}`,
      hasReportingAccess: true,
    })),
    jobTimings: { queuedMs: opts.queuedMs, processingMs: opts.processingMs },
    rowsPerDay: 1,
    now: clock,
  });
  const dir = await mkdtemp(join(tmpdir(), 'bench-sfn-'));
  let peakRss = process.memoryUsage.rss();
  // memoryUsage.rss() is cheap; memoryUsage() walks the heap and would slow a large run down.
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  try {
    const settings = parseSettings({ apiBaseUrl: emulator.url, allowedDownloadHosts: ['127.0.0.1'] });
    const started = clock();
    const result = await runExportLocally(opts.datasets ? { datasets: opts.datasets } : {}, {
      deps: localDeps({
        settings,
        token: emulator.token,
        store: new FolderStore(dir),
        now: () => new Date(clock()),
      }),
      timeScale: opts.timeScale,
    });
    const makespanMs = clock() - started;
    if (result.status !== 'SUCCEEDED') {
      throw new Error(`bench run ${result.status}: ${result.error?.name}: ${result.error?.message}`);
    }
    // One job per lane here, so a job completes exactly queued + processing after its creation.
    const noticeLatencyMs = emulator.jobs().map((j) => {
      const completedAt = j.createdAt + opts.queuedMs + opts.processingMs;
      const noticed = emulator.requests.find(
        (r) => r.path === `/v2/salesAnalyticsExportJobs/${j.id}` && r.at >= completedAt,
      );
      return (noticed?.at ?? Number.NaN) - completedAt;
    });
    return {
      makespanMs,
      items: result.stats.executions - 1,
      transitions: result.stats.transitions,
      polls: emulator.requests.filter(
        (r) => r.method === 'GET' && r.path.includes('/salesAnalyticsExportJobs/'),
      ).length,
      noticeLatencyMs,
      peakRssBytes: peakRss,
    };
  } finally {
    clearInterval(sampler);
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const minutes = (ms: number): string => `${(ms / MINUTE_MS).toFixed(1)} min`;

async function transitionsPerItem(
  label: string,
  queuedSeconds: number,
  processingSeconds: number,
  timeScale = TIME_SCALE,
): Promise<string[]> {
  const jobMs = (queuedSeconds + processingSeconds) * 1000;
  const run = await measureRun({
    contracts: 2,
    queuedMs: queuedSeconds * 1000,
    processingMs: processingSeconds * 1000,
    timeScale,
  });
  const perItem = run.transitions / run.items;
  const worst = Math.max(...run.noticeLatencyMs);
  return [
    label,
    String(run.items),
    perItem.toFixed(1),
    (run.polls / run.items).toFixed(1),
    `${(worst / 1000).toFixed(0)} s`,
    `${Math.max(60, (0.1 * jobMs) / 1000).toFixed(0)} s`,
    `$${((perItem * 1000 * PRICE_PER_1000_TRANSITIONS) / 1000).toFixed(4)}`,
    `$${((perItem * run.items * 30 * PRICE_PER_1000_TRANSITIONS) / 1000).toFixed(3)}`,
  ];
}

/** Makespan of a one-day run of N contracts × 3 datasets, over the makespan of one lane. */
async function scaleRows(sizes: number[], timeScale: number): Promise<string[][]> {
  const job = { queuedMs: 5 * MINUTE_MS, processingMs: 15 * MINUTE_MS, timeScale };
  const lane = await measureRun({ ...job, contracts: 1, datasets: ['seat'] });
  const rows = [['1 (one lane)', '1', minutes(lane.makespanMs), '1.00', mib(lane.peakRssBytes)]];
  for (const contracts of sizes) {
    const run = await measureRun({ ...job, contracts });
    rows.push([
      String(contracts),
      String(run.items),
      minutes(run.makespanMs),
      (run.makespanMs / lane.makespanMs).toFixed(2),
      mib(run.peakRssBytes),
    ]);
  }
  return rows;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function print(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}\n${fmt(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(fmt(row));
}

// `npm run bench -- [scale] [sfn] [copy] [--sizes 1,3] [--runs 3]`: every section by default.
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const sections = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const wants = (section: string) => sections.length === 0 || sections.includes(section);

const sizes = (process.env.BENCH_SIZES ?? '2,40,300,1000').split(',').map(Number);
const scale = Number(process.env.BENCH_TIME_SCALE ?? 0.1);
if (wants('scale')) {
  print(
    `Scale: one-day run, every dataset of N contracts, 20-minute LinkedIn jobs (5 queued + 15 processing), default lane concurrency; time scale ${scale}`,
    ['contracts', 'lanes', 'makespan', 'makespan ÷ one lane', 'peak RSS of the local run'],
    await scaleRows(sizes, scale),
  );
}
if (wants('sfn')) {
  print(
    'Step Functions transitions per item and notice latency (1 day × 2 contracts × 3 datasets; LinkedIn timings as listed)',
    [
      'LinkedIn job time',
      'items',
      'transitions/item',
      'polls/item',
      'worst notice latency',
      'bound max(60 s, 10 %)',
      'cost/1000 items',
      'cost/month (daily)',
    ],
    [
      await transitionsPerItem('3 min (1 queued + 2 processing)', 60, 120, 0.01),
      await transitionsPerItem('30 min (10 queued + 20 processing)', 600, 1200, 0.005),
      await transitionsPerItem('3 h (1 h queued + 2 h processing)', 3600, 7200),
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
