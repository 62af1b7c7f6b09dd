import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { addDays, daysBetween, utcDay } from '#shared/days';
import { type ErrorInfo, errorInfo, NamedError } from '#shared/errors';
import type { Manifest } from '#shared/finish';
import type { LinkedInApi } from '#shared/linkedin-api';
import { MAX_WINDOW_DAYS, parseRunInput, type RunInput, resolveRange } from '#shared/plan';
import { logger } from '#shared/powertools';
import { createS3Client, parseS3Url, S3ObjectStore } from '#shared/s3-store';
import { parseSettings } from '#shared/settings';
import type { ObjectStore } from '#shared/store';
import { DATASETS } from '#shared/types';
import { localDeps } from './deps.ts';
import { type Emulator, startEmulator } from './emulator/server.ts';
import { type LocalRunResult, newRunId, type ProgressEvent, runExportLocally } from './executor.ts';
import { FolderStore } from './folder-store.ts';

/**
 * `npm run export`: the public command line. Flags and exit codes are a stable interface:
 *   0  every item EXPORTED or SKIPPED
 *   1  at least one item FAILED (the manifest is still written), or the run itself failed
 *   2  bad arguments or configuration
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Export LinkedIn Sales Navigator analytics (seat, activity, activityOutcome) to a folder or S3.

Usage:
  npm run export -- --local [options]                 run the workflow on this machine (no AWS needed)
  npm run export -- --state-machine-arn ARN [options] start the deployed ExportRun and follow it
  npm run demo                                        local run against the built-in emulator into ./exports

Options:
  --local                       run the state machines locally (aws-local-stepfunctions)
  --api-url URL                 LinkedIn API base URL (e.g. https://api.linkedin.com/v2); the token is read
                                from LINKEDIN_ACCESS_TOKEN. Without it, a built-in LinkedIn emulator is used.
  --dest DIR|s3://bucket/prefix destination (default ./exports); s3:// honours AWS_ENDPOINT_URL_S3
  --from YYYY-MM-DD             first UTC day (inclusive)        } both or neither; default: the last
  --to YYYY-MM-DD               last UTC day (exclusive)         } complete UTC day minus the lag
  --contract URN                only this contract (repeatable); default: every contract with reporting access
  --datasets LIST               comma-separated: seat,activity,activityOutcome (default: all)
  --allow-download-host HOST    also accept download URLs on HOST (repeatable; may be http)
  --time-scale F                multiply every wait by F (default 0.001 with the emulator, 1 otherwise)
  --force                       export again even if the object already exists
  --state-machine-arn ARN       AWS mode: start this ExportRun state machine and follow the execution
  --demo                        the demo: built-in emulator, the last 3 complete days, into ./exports
  --quiet                       no live progress
  -h, --help                    this help

Exit codes: 0 all items exported or skipped, 1 some item failed (see the manifest), 2 bad arguments.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Rewrites the current progress line (TTY) or prints it (otherwise). */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

class UsageError extends Error {}

const EMULATOR_HOST = '127.0.0.1';
const DEMO_DAYS = 3;

interface Args {
  local: boolean;
  demo: boolean;
  apiUrl?: string;
  dest: string;
  input: RunInput;
  allowHosts: string[];
  timeScale?: number;
  stateMachineArn?: string;
  quiet: boolean;
}

export function parseCli(argv: string[]): Args | 'help' {
  let parsed: ReturnType<typeof parseCliRaw>;
  try {
    parsed = parseCliRaw(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const demo = v.demo ?? false;
  const local = (v.local ?? false) || demo;
  if (local === Boolean(v['state-machine-arn'])) {
    throw new UsageError('choose one mode: --local, or --state-machine-arn ARN');
  }
  if (v['api-url'] !== undefined && !URL.canParse(v['api-url'])) {
    throw new UsageError(`--api-url: not a URL: ${v['api-url']}`);
  }
  let timeScale: number | undefined;
  if (v['time-scale'] !== undefined) {
    timeScale = Number(v['time-scale']);
    if (!Number.isFinite(timeScale) || timeScale <= 0) {
      throw new UsageError(`--time-scale: must be a positive number, got ${v['time-scale']}`);
    }
  }
  const datasets = v.datasets?.split(',').map((d) => d.trim());
  const raw: Record<string, unknown> = {
    ...(v.contract && { contracts: v.contract }),
    ...(datasets && { datasets }),
    ...(v.from !== undefined && { from: v.from }),
    ...(v.to !== undefined && { to: v.to }),
    ...(v.force && { force: true }),
  };
  if (demo && v.from === undefined && v.to === undefined) {
    const today = utcDay(new Date());
    Object.assign(raw, { from: addDays(today, -DEMO_DAYS), to: today });
  }
  let input: RunInput;
  try {
    input = parseRunInput(raw);
    resolveRange(input, new Date(), 0); // `--to` after today: refused here, before any split into runs
  } catch (err) {
    // Same validation as PlanRun; name the flag rather than the input field.
    throw new UsageError(
      (err as Error).message
        .replace('invalid execution input: ', '')
        .replace(/\bcontracts(\.\d+)?:/g, '--contract:')
        .replace(/\bdatasets(\.\d+)?:/g, `--datasets (one of ${DATASETS.join(', ')}):`)
        .replace(/\b(from|to):/g, '--$1:'),
    );
  }
  return {
    local,
    demo,
    apiUrl: v['api-url'],
    dest: v.dest ?? './exports',
    input,
    allowHosts: v['allow-download-host'] ?? [],
    timeScale,
    stateMachineArn: v['state-machine-arn'],
    quiet: v.quiet ?? false,
  };
}

function parseCliRaw(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      local: { type: 'boolean' },
      demo: { type: 'boolean' },
      'api-url': { type: 'string' },
      dest: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      contract: { type: 'string', multiple: true },
      datasets: { type: 'string' },
      'allow-download-host': { type: 'string', multiple: true },
      'time-scale': { type: 'string' },
      force: { type: 'boolean' },
      'state-machine-arn': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Runs the CLI; returns the exit code. Never calls `process.exit` (the caller does). */
export async function main(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseCli(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    io.err('Run with --help for usage.');
    return EXIT.usage;
  }
  if (args === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  logger.setLogLevel(env.POWERTOOLS_LOG_LEVEL === undefined ? 'SILENT' : (env.POWERTOOLS_LOG_LEVEL as never));
  try {
    return args.local ? await runLocal(args, env, io) : await runInAws(args, env, io);
  } catch (err) {
    if (err instanceof UsageError || isConfigurationError(err)) {
      io.err(`error: ${(err as Error).message}`);
      return EXIT.usage;
    }
    // A failure outside a run (a 401 while counting contracts, AWS credentials or region missing in AWS
    // mode, an unreachable S3 endpoint): a message and exit 1, not a stack trace. DEBUG=1 shows the stack.
    const info = errorInfo(err);
    io.err(`error: ${info.name}: ${info.message}`);
    if (env.DEBUG && err instanceof Error && err.stack) io.err(err.stack);
    return err instanceof NamedError ? exitCodeOf(info) : EXIT.failed;
  }
}

function isConfigurationError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ConfigurationError' || err.name === 'InvalidInputError');
}

async function runLocal(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
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

/** Live progress: items done / to do, bytes, on one rewritten line (TTY) or a line per item. */
class Progress {
  private total = 0;
  private exported = 0;
  private failed = 0;
  private bytes = 0;
  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
  ) {}

  on(event: ProgressEvent): void {
    switch (event.type) {
      case 'planned':
        this.total = event.toExport;
        this.io.err(
          `Run ${event.runId}: ${event.planned} item(s) planned, ${event.skipped} already exported (skipped), ${event.toExport} to export.`,
        );
        return;
      case 'split':
        this.total += event.halves - 1;
        this.line(
          `${describe(event.item)} is over LinkedIn's file limit: exporting it in ${event.halves} parts`,
        );
        return;
      case 'exported':
        this.exported++;
        this.bytes += event.bytes;
        this.line(`${describe(event.item)} exported (${event.rows} rows, ${formatBytes(event.bytes)})`);
        return;
      case 'failed':
        this.failed++;
        this.line(`${describe(event.item)} FAILED: ${event.error.name}: ${event.error.message}`);
        return;
      case 'status':
        return;
    }
  }

  private line(detail: string): void {
    if (this.quiet) return;
    const done = this.exported + this.failed;
    const text = `[${done}/${this.total}] ${this.exported} exported, ${this.failed} failed, ${formatBytes(this.bytes)} — ${detail}`;
    (this.io.progress ?? this.io.err)(text);
  }

  done(): void {
    if (!this.quiet && this.io.progress) this.io.progress('');
  }
}

function describe(item: { contract: string; dataset: string; start: string; end: string }): string {
  return `${item.dataset} ${item.contract} ${item.start}..${item.end}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function report(
  results: { result: LocalRunResult; manifest?: Manifest }[],
  store: ObjectStore,
  args: Args,
  io: CliIo,
): number {
  const items = results.flatMap((r) => r.manifest?.items ?? []);
  if (items.length) io.out(table(items));
  let code: number = EXIT.ok;
  for (const { result, manifest } of results) {
    if (manifest) {
      const s = manifest.summary;
      io.out(
        `Run ${result.runId}: ${s.exported} exported, ${s.skipped} skipped, ${s.failed} failed, ${s.rows} rows, ${formatBytes(s.bytes)}.`,
      );
      io.out(`Manifest: ${join(store.location, `manifests/${result.runId}.json`)}`);
    }
    if (result.status === 'ABORTED') {
      io.err(
        `Run ${result.runId} was interrupted; what finished is in ${store.location}. Run again to resume.`,
      );
      code = EXIT.failed;
    } else if (result.status === 'FAILED') {
      code = Math.max(code, exitCodeOf(result.error));
      if (!manifest || result.error?.name !== 'RunIncompleteError') {
        io.err(`error: run ${result.runId} failed: ${result.error?.name}: ${result.error?.message}`);
      }
    }
  }
  if (items.some((i) => i.status === 'EXPORTED')) {
    io.out(`Files: ${join(store.location, 'sales-navigator/')}<dataset>/contract=<id>/window=<start>_<end>/`);
  }
  if (args.demo && code === EXIT.ok) {
    io.out('Demo done: open the CSV files above, or the manifest, to see what a daily export produces.');
  }
  return code;
}

function exitCodeOf(error: ErrorInfo | undefined): number {
  return error?.name === 'InvalidInputError' || error?.name === 'ConfigurationError'
    ? EXIT.usage
    : EXIT.failed;
}

function join(location: string, key: string): string {
  return `${location.replace(/\/+$/, '')}/${key}`;
}

function table(items: Manifest['items']): string {
  const rows = items.map((i) => [
    i.status,
    i.dataset,
    i.contract.replace('urn:li:salesContract:', ''),
    `${i.window.start}..${i.window.end}`,
    i.rows === undefined ? '' : String(i.rows),
    i.bytes === undefined ? '' : formatBytes(i.bytes),
    i.error ? `${i.error.name}: ${i.error.message}` : i.key,
  ]);
  const header = ['STATUS', 'DATASET', 'CONTRACT', 'WINDOW', 'ROWS', 'SIZE', 'KEY / ERROR'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

/** AWS mode: start the deployed ExportRun with the same input and follow it to the end. */
async function runInAws(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const arn = args.stateMachineArn as string;
  const region = /^arn:aws[\w-]*:states:([\w-]+):\d{12}:stateMachine:[\w-]{1,80}$/.exec(arn)?.[1];
  if (!region) throw new UsageError(`--state-machine-arn: not a state machine ARN: ${arn}`);
  // The state machine's own region, whatever the profile's default is.
  const client = new SFNClient({ region });
  return followExecution(client, arn, args.input, io, Number(env.EXPORT_POLL_MS ?? 10_000));
}

/**
 * Starts ExportRun with `input` and follows it. A range PlanRun refuses as too large for one run
 * (PlanTooLargeError: the CLI cannot count the contracts without the token) is halved on a 90-day
 * boundary and the halves run one after the other, never truncated.
 */
export async function followExecution(
  client: SFNClient,
  stateMachineArn: string,
  input: RunInput,
  io: CliIo,
  pollMs = 10_000,
): Promise<number> {
  const pending = [input];
  let code: number = EXIT.ok;
  for (let next = pending.shift(); next; next = pending.shift()) {
    const outcome = await startAndFollow(client, stateMachineArn, next, io, pollMs);
    const halves = outcome.error?.name === 'PlanTooLargeError' ? halveRange(next) : undefined;
    if (halves) {
      io.err(`The range ${next.from}..${next.to} is too large for one run: running it in two halves.`);
      pending.unshift(...halves);
      continue;
    }
    code = Math.max(code, outcome.code);
    if (outcome.code !== EXIT.ok && outcome.error?.name !== 'RunIncompleteError') break;
  }
  return code;
}

/** `[from, to)` split in two at a 90-day window boundary, or undefined when it is a single window. */
function halveRange(input: RunInput): [RunInput, RunInput] | undefined {
  if (!input.from || !input.to) return undefined;
  const windows = Math.ceil(daysBetween(input.from, input.to) / MAX_WINDOW_DAYS);
  if (windows < 2) return undefined;
  const middle = addDays(input.from, Math.floor(windows / 2) * MAX_WINDOW_DAYS);
  return [
    { ...input, to: middle },
    { ...input, from: middle },
  ];
}

async function startAndFollow(
  client: SFNClient,
  stateMachineArn: string,
  input: RunInput,
  io: CliIo,
  pollMs: number,
): Promise<{ code: number; error?: ErrorInfo }> {
  const name = newRunId().replace(/^local-/, 'cli-');
  const started = await client.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  const executionArn = started.executionArn as string;
  io.err(`Started ${executionArn}`);
  let last = '';
  for (;;) {
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== last) {
      io.err(`Execution ${name}: ${d.status}`);
      last = d.status ?? '';
    }
    if (d.status === 'SUCCEEDED') {
      io.out(d.output ?? '');
      return { code: EXIT.ok };
    }
    if (d.status && d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      const error: ErrorInfo = { name: d.error ?? d.status, message: d.cause ?? '' };
      io.err(
        `error: execution ${name} ${d.status}: ${error.name}${error.message ? `: ${error.message}` : ''}`,
      );
      return { code: exitCodeOf(error), error };
    }
    if (io.signal?.aborted) {
      io.err(`Stopped following ${executionArn}; it keeps running in AWS.`);
      return { code: EXIT.failed };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
