// A local run: checks first (token, destination, lock, LinkedIn), then runs split by size on the executor.

import { addDays, daysBetween } from '#common/days';
import { quotedList } from '#common/errors';
import { contractUrnId, DATASETS } from '#common/model';
import { parseSettings, type Settings } from '#common/settings';
import type { Contract, LinkedInApi } from '#linkedin/api';
import { daysLeft } from '#linkedin/oauth';
import { renewInstruction, TOKEN_EXPIRY_WARNING_DAYS } from '#linkedin/token';
import type { Manifest } from '#steps/finish';
import { analyticsDatasets, MAX_WINDOW_DAYS, type RunInput } from '#steps/plan';
import { localDeps } from '../deps.ts';
import { openDestination } from '../destination.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { type LocalRunResult, newRunId, runExportLocally } from '../executor.ts';
import { FolderStore } from '../folder-store.ts';
import { acquireLock, DestinationLockedError } from '../lock.ts';
import { demoSummary } from '../query/demo-summary.ts';
import { defaultTokenFile, readTokenFile } from '../token-file.ts';
import { Progress } from './progress.ts';
import { report } from './summary.ts';
import { type Args, type CliIo, EXIT, UsageError } from './types.ts';

const EMULATOR_HOST = '127.0.0.1';
/** The download idle timeout is scaled with `--time-scale`, but never below this (slow machines). */
const MIN_DOWNLOAD_IDLE_TIMEOUT_MS = 2_000;

export async function runLocal(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  // 1. What can be checked without any call: the token (LINKEDIN_ACCESS_TOKEN, else the token file
  // `npm run token -- login` writes, whose expiry is checked here).
  const token = args.emulator ? undefined : await localToken(env, io);
  // 2. The destination: writable / reachable, and ours alone for the run (lock).
  const destination = await openDestination(args.dest, env);
  const { store } = destination;
  const lockId = newRunId();
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(destination.lock, lockId);
  } catch (err) {
    if (err instanceof DestinationLockedError) throw new UsageError(`--dest ${args.dest}: ${err.message}`);
    throw err;
  }
  let emulator: Emulator | undefined;
  try {
    if (lock.replaced) {
      io.err(
        `Took over a stale lock of run ${lock.replaced.runId} (pid ${lock.replaced.pid} on ${lock.replaced.host} is gone).`,
      );
    }
    const removed = await destination.removeStaleTemps();
    if (removed)
      io.err(`Removed ${removed} unfinished temp file(s) a stopped run left in ${store.location}.`);

    // 3. LinkedIn: the emulator when asked for, else the given API; one call checks token and reach.
    if (args.emulator) {
      emulator = await startEmulator();
      io.err(
        `Using the built-in LinkedIn emulator at ${emulator.url} (made-up demo data, no LinkedIn account needed).`,
      );
    }
    const apiUrl = emulator?.url ?? (args.apiUrl as string);
    const timeScale = args.timeScale ?? (emulator ? 0.001 : 1);
    const defaults = parseSettings({});
    const settings = parseSettings(
      {
        apiBaseUrl: apiUrl,
        allowedDownloadHosts: [
          ...defaults.allowedDownloadHosts,
          ...args.allowHosts,
          // The emulator's own host and port (a pattern without a port allows only the default one).
          ...(emulator ? [`${EMULATOR_HOST}:${new URL(emulator.url).port}`] : []),
        ],
        downloadIdleTimeoutMs: scaledIdleTimeout(defaults, timeScale),
      },
      'command line',
    );
    const deps = {
      ...localDeps({ settings, token: emulator?.token ?? (token as string), store }),
      source: emulator ? ('emulator' as const) : ('linkedin' as const),
    };
    const contracts = await checkLinkedIn(deps.linkedin, apiUrl, args.input, io.signal);
    const runs = splitIntoRuns(args.input, settings.maxItemsPerRun, contracts);
    io.err(
      `Exporting ${describeRange(args.input)} to ${store.location}${runs.length > 1 ? ` in ${runs.length} runs` : ''}.`,
    );
    const onAbort = (): void =>
      io.err(
        '\nInterrupted: no new LinkedIn job will be created; downloads under way are cancelled and the manifest is written. Ctrl-C again to quit at once.',
      );
    io.signal?.addEventListener('abort', onAbort, { once: true });

    // A download host that is not allowed would refuse every item: stop at the first one, so no
    // more LinkedIn jobs are created for nothing, and say which flag fixes it.
    const refusedHost = new AbortController();
    let refusal: string | undefined;
    const signal = io.signal ? AbortSignal.any([io.signal, refusedHost.signal]) : refusedHost.signal;
    const results: { result: LocalRunResult; manifest?: Manifest }[] = [];
    try {
      for (const input of runs) {
        if (signal.aborted) break;
        const progress = new Progress(io, args.quiet);
        const result = await runExportLocally(input, {
          deps,
          timeScale,
          ...(args.concurrency !== undefined && { mapConcurrency: args.concurrency }),
          runId: newRunId(),
          onProgress: (event) => {
            progress.on(event);
            if (
              event.type === 'failed' &&
              event.error.name === 'DownloadUrlRejectedError' &&
              /not on the download allow-list/.test(event.error.message) &&
              !refusal
            ) {
              refusal = event.error.message;
              refusedHost.abort();
            }
          },
          signal,
        });
        progress.done();
        const manifest = (await store.getJson(`manifests/${result.runId}.json`)) as Manifest | undefined;
        results.push({ result, manifest });
        if (result.status === 'ABORTED') break;
        if (result.status === 'FAILED' && !manifest) break; // the run itself failed (e.g. token): stop
      }
    } finally {
      io.signal?.removeEventListener('abort', onAbort);
    }
    if (results.length === 0 && io.signal?.aborted) {
      io.err('Interrupted before the run started: nothing was exported.');
      return EXIT.failed;
    }
    const stoppedBecause =
      refusal && !io.signal?.aborted
        ? `at the first refused download, as every item would be refused: ${refusal}`
        : undefined;
    const code = report(results, store, args, io, stoppedBecause);
    if (args.demo && code === EXIT.ok && store instanceof FolderStore) {
      io.out(await demoSummary(store.location, args.dest));
    }
    return code;
  } finally {
    await emulator?.close();
    await lock.release();
  }
}

/**
 * The access token of a run against LinkedIn: LINKEDIN_ACCESS_TOKEN when set (as before), else the
 * token file. A file token that has expired stops the run before anything starts, naming the command
 * that renews it; one that expires within TOKEN_EXPIRY_WARNING_DAYS is used with a warning.
 */
async function localToken(env: NodeJS.ProcessEnv, io: CliIo): Promise<string> {
  const fromEnv = env.LINKEDIN_ACCESS_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const path = defaultTokenFile(env);
  const record = await readTokenFile(path);
  if (!record) {
    throw new UsageError(
      `--api-url needs the access token: run npm run token -- login (it writes ${path}), or export LINKEDIN_ACCESS_TOKEN=... ` +
        '(README "Get access" says how to get one)',
    );
  }
  const expiresAt = new Date(record.expiresAt);
  const days = daysLeft(expiresAt, new Date());
  if (expiresAt.getTime() <= Date.now()) {
    throw new UsageError(
      `the LinkedIn access token in ${path} expired on ${record.expiresAt}: ${renewInstruction('npm run token -- login')}`,
    );
  }
  if (days < TOKEN_EXPIRY_WARNING_DAYS) {
    io.err(
      `The LinkedIn access token in ${path} expires in ${days} days (${record.expiresAt}): renew it with: npm run token -- login`,
    );
  }
  return record.accessToken;
}

/** `downloadIdleTimeoutMs` multiplied by `--time-scale`, with a floor (the emulator runs at 0.001). */
export function scaledIdleTimeout(defaults: Settings, timeScale: number): number {
  const scaled = Math.round(defaults.downloadIdleTimeoutMs * timeScale);
  return Math.min(
    defaults.downloadIdleTimeoutMs * 10,
    Math.max(MIN_DOWNLOAD_IDLE_TIMEOUT_MS, scaled),
    600_000,
  );
}

/**
 * One `GET /salesContracts` before anything is exported: checks the API answers, the token is
 * accepted, and every `--contract` is one of the token's with reporting access, each with a message
 * saying what to fix. Returns the contracts with reporting access.
 */
async function checkLinkedIn(
  linkedin: LinkedInApi,
  apiUrl: string,
  input: RunInput,
  signal?: AbortSignal,
): Promise<Contract[]> {
  let contracts: Contract[];
  try {
    contracts = await linkedin.listContracts();
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = err as Error;
    if (e.name === 'LinkedInAuthError') {
      throw Object.assign(
        new Error(
          `the LinkedIn API at ${apiUrl} refused the access token in LINKEDIN_ACCESS_TOKEN (401): it is wrong, expired (60 days) or revoked. ` +
            'Get a new token (README "Get access") and export LINKEDIN_ACCESS_TOKEN again.',
        ),
        { name: 'LinkedInAuthError' },
      );
    }
    if (e.name === 'LinkedInTransientError' && /network error|no answer within/.test(e.message)) {
      throw new UsageError(
        `cannot reach the LinkedIn API at ${apiUrl}: ${e.message.replace(/^GET \S+: /, '')}. ` +
          'Check --api-url (https://api.linkedin.com/v2 for LinkedIn) and your network or proxy.',
      );
    }
    if (e.name === 'LinkedInForbiddenError') {
      throw Object.assign(
        new Error(
          `${e.message} The token needs the r_sales_nav_analytics scope, and its member a reporting role on the contract (README "Get access").`,
        ),
        { name: e.name },
      );
    }
    throw err;
  }
  const reportable = contracts.filter((c) => c.hasReportingAccess);
  for (const wanted of input.contracts ?? []) {
    // LinkedIn's urn:li:contract:<id> and the seed spec's urn:li:salesContract:<id> name one contract.
    const same = (c: Contract) =>
      c.contract === wanted || contractUrnId(c.contract) === contractUrnId(wanted);
    if (reportable.some(same)) continue;
    const known = contracts.some(same);
    const choices = quotedList(reportable.map((c) => `${c.contract} (${c.name})`)) || 'none';
    throw new UsageError(
      `--contract ${wanted} ${known ? 'has no reporting access for this token' : 'is not a contract of this token'}; ` +
        `contracts with reporting access: ${choices}`,
    );
  }
  if (!input.contracts && reportable.length === 0) {
    throw new UsageError(
      `the token's member has no Sales Navigator contract with reporting access (${contracts.length} contract(s) found): ` +
        'an admin must give the member a reporting role on the contract (README "Get access")',
    );
  }
  return reportable;
}

function describeRange(input: RunInput): string {
  return input.from && input.to ? `[${input.from}, ${input.to})` : 'the default window';
}

/**
 * A backfill larger than one run's item bound is split into consecutive runs of whole 90-day windows,
 * never truncated.
 */
function splitIntoRuns(input: RunInput, maxItemsPerRun: number, reportable: Contract[]): RunInput[] {
  if (!input.from || !input.to) return [input];
  if (input.datasets && analyticsDatasets(input.datasets).length === 0) return [input]; // CRM only: no windows
  const windows = Math.ceil(daysBetween(input.from, input.to) / MAX_WINDOW_DAYS);
  const datasets = input.datasets ? analyticsDatasets(input.datasets).length : DATASETS.length;
  if (windows === 1) return [input];
  // Both URN forms of one id are one contract (PlanRun de-duplicates them the same way).
  const requested = input.contracts && new Set(input.contracts.map((c) => contractUrnId(c) ?? c)).size;
  const contracts = requested || reportable.length || 1;
  const windowsPerRun = Math.max(1, Math.floor(maxItemsPerRun / (datasets * contracts)));
  if (windows <= windowsPerRun) return [input];
  const runs: RunInput[] = [];
  for (let from = input.from; from < input.to; ) {
    const to = minDay(addDays(from, windowsPerRun * MAX_WINDOW_DAYS), input.to);
    // The CRM family is incremental, not windowed: only the first run exports it.
    const { crmInstances: _, ...analytics } = input;
    runs.push(
      runs.length === 0
        ? { ...input, from, to }
        : { ...analytics, from, to, ...(input.datasets && { datasets: analyticsDatasets(input.datasets) }) },
    );
    from = to;
  }
  return runs;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
