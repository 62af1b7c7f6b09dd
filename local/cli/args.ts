// Command-line arguments: the usage text, parsing with node:util, and validation naming the flag.
import { parseArgs } from 'node:util';
import { addDays, utcDay } from '#common/days';
import { DATASETS } from '#common/model';
import { MAX_MAP_CONCURRENCY } from '#lib/workflow';
import { parseRunInput, type RunInput, resolveRange } from '#steps/plan';
import { type Args, UsageError } from './types.ts';

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
  --concurrency N               lanes (contract × dataset) exported at once, 1-10000 (default 3000)
  --force                       export again even if the object already exists
  --state-machine-arn ARN       AWS mode: start this ExportRun state machine and follow the execution
  --demo                        the demo: built-in emulator, the last 3 complete days, into ./exports
  --quiet                       no live progress
  -h, --help                    this help

Exit codes: 0 all items exported or skipped, 1 some item failed (see the manifest), 2 bad arguments.`;

const DEMO_DAYS = 3;

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
  let concurrency: number | undefined;
  if (v.concurrency !== undefined) {
    concurrency = Number(v.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_MAP_CONCURRENCY) {
      throw new UsageError(
        `--concurrency: must be a whole number from 1 to ${MAX_MAP_CONCURRENCY}, got ${v.concurrency}`,
      );
    }
  }
  if (concurrency !== undefined && !local) {
    throw new UsageError(
      '--concurrency is for local runs; a deployed stack takes its lane concurrency from the mapConcurrency context key',
    );
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
    concurrency,
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
      concurrency: { type: 'string' },
      force: { type: 'boolean' },
      'state-machine-arn': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
