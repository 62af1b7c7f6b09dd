// A local run: LinkedIn (real or the built-in emulator), the destination, runs split by size, the executor.
import { resolve } from 'node:path';
import { addDays, daysBetween } from '#common/days';
import { DATASETS } from '#common/model';
import { parseSettings } from '#common/settings';
import type { LinkedInApi } from '#linkedin/api';
import type { Manifest } from '#steps/finish';
import { MAX_WINDOW_DAYS, type RunInput } from '#steps/plan';
import { createS3Client, parseS3Url, S3ObjectStore } from '#storage/s3-store';
import type { ObjectStore } from '#storage/store';
import { localDeps } from '../deps.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { type LocalRunResult, newRunId, runExportLocally } from '../executor.ts';
import { FolderStore } from '../folder-store.ts';
import { Progress } from './progress.ts';
import { report } from './summary.ts';
import { type Args, type CliIo, UsageError } from './types.ts';

const EMULATOR_HOST = '127.0.0.1';

export async function runLocal(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let emulator: Emulator | undefined;
  let token: string;
  let apiUrl: string;
  if (args.apiUrl) {
    const fromEnv = env.LINKEDIN_ACCESS_TOKEN?.trim();
    if (!fromEnv)
      throw new UsageError(
        '--api-url needs the access token in the LINKEDIN_ACCESS_TOKEN environment variable',
      );
    token = fromEnv;
    apiUrl = args.apiUrl;
  } else {
    emulator = await startEmulator();
    token = emulator.token;
    apiUrl = emulator.url;
    io.err(`Using the built-in LinkedIn emulator at ${apiUrl} (demo data, no LinkedIn account needed).`);
  }
  try {
    const settings = parseSettings(
      {
        apiBaseUrl: apiUrl,
        allowedDownloadHosts: [
          ...parseSettings({}).allowedDownloadHosts,
          ...args.allowHosts,
          ...(emulator ? [EMULATOR_HOST] : []),
        ],
      },
      'command line',
    );
    const store = openDestination(args.dest);
    const timeScale = args.timeScale ?? (emulator ? 0.001 : 1);
    const deps = localDeps({ settings, token, store });
    const runs = await splitIntoRuns(args.input, settings.maxItemsPerRun, deps.linkedin);
    io.err(`Exporting to ${store.location}${runs.length > 1 ? ` in ${runs.length} runs` : ''}.`);

    const results: { result: LocalRunResult; manifest?: Manifest }[] = [];
    for (const input of runs) {
      const progress = new Progress(io, args.quiet);
      const result = await runExportLocally(input, {
        deps,
        timeScale,
        ...(args.concurrency !== undefined && { mapConcurrency: args.concurrency }),
        runId: newRunId(),
        onProgress: (event) => progress.on(event),
        signal: io.signal,
      });
      progress.done();
      const manifest = (await store.getJson(`manifests/${result.runId}.json`)) as Manifest | undefined;
      results.push({ result, manifest });
      if (result.status === 'ABORTED') break;
      if (result.status === 'FAILED' && !manifest) break; // the run itself failed (e.g. token): stop
    }
    return report(results, store, args, io);
  } finally {
    await emulator?.close();
  }
}

function openDestination(dest: string): ObjectStore {
  if (dest.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(dest);
    return new S3ObjectStore({ client: createS3Client(), bucket, prefix });
  }
  return new FolderStore(resolve(dest));
}

/**
 * A backfill larger than one run's item bound is split into consecutive runs of whole 90-day windows,
 * never truncated. The number of contracts is needed for that, so it is asked from LinkedIn when the
 * range is long enough to matter.
 */
async function splitIntoRuns(
  input: RunInput,
  maxItemsPerRun: number,
  linkedin: LinkedInApi,
): Promise<RunInput[]> {
  if (!input.from || !input.to) return [input];
  const windows = Math.ceil(daysBetween(input.from, input.to) / MAX_WINDOW_DAYS);
  const datasets = input.datasets?.length ?? DATASETS.length;
  if (windows === 1) return [input];
  if (input.contracts && windows * datasets * input.contracts.length <= maxItemsPerRun) return [input];
  const contracts =
    input.contracts?.length ??
    ((await linkedin.listContracts()).filter((c) => c.hasReportingAccess).length || 1);
  const windowsPerRun = Math.max(1, Math.floor(maxItemsPerRun / (datasets * contracts)));
  if (windows <= windowsPerRun) return [input];
  const runs: RunInput[] = [];
  for (let from = input.from; from < input.to; ) {
    const to = minDay(addDays(from, windowsPerRun * MAX_WINDOW_DAYS), input.to);
    runs.push({ ...input, from, to });
    from = to;
  }
  return runs;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
