// Command-line arguments: the usage text, parsing with node:util, and validation naming the flag.

import { parseArgs } from 'node:util';
import { CRM_DATASET, CrmInstanceUrnSchema } from '#common/crm';
import { addDays, utcDay } from '#common/days';
import { ContractUrnSchema, DATASETS, type Dataset } from '#common/model';
import { isSecureApiUrl, parseHostPattern } from '#common/settings';
import { MAX_MAP_CONCURRENCY } from '#lib/workflow';
import type { DataSource } from '#steps/coverage';
import { parseRunInput, type RunInput, resolveRange } from '#steps/plan';
import { DEFAULT_CRM_INSTANCE } from '../emulator/crm.ts';
import { type Args, UsageError } from './types.ts';

export const USAGE = `Export LinkedIn Sales Navigator analytics (seat, activity, activityOutcome) to a folder or S3.

Usage:
  npm run export -- --local --api-url URL [options]   run the workflow on this machine against LinkedIn
                                                      (token in LINKEDIN_ACCESS_TOKEN, else the file
                                                      npm run token -- login writes; no AWS needed)
  npm run export -- --local --emulator [options]      the same against the built-in emulator (made-up data)
  npm run export -- --state-machine-arn ARN [options] start the deployed ExportRun and follow it
  npm run export -- --stop EXECUTION_ARN              stop an ExportRun execution started in AWS
  npm run demo                                        the demo: built-in emulator, into ./exports-demo
  npm run export -- coverage [coverage options]       which days a destination holds, per contract and
                                                      dataset, as a calendar (exit 1 when there are gaps)

Options:
  --local                       run the state machines locally (aws-local-stepfunctions)
  --api-url URL                 local: LinkedIn API base URL, https://api.linkedin.com/v2 for the real one;
                                the token is read from LINKEDIN_ACCESS_TOKEN, else from the token file
                                (LINKEDIN_TOKEN_FILE, default ~/.config/salesnav-export/linkedin-token.json)
  --emulator                    local: use the built-in LinkedIn emulator (made-up data, no account needed)
  --dest DIR|s3://bucket/prefix local: destination (default ./exports; ./exports-demo for the emulator);
                                s3:// honours AWS_ENDPOINT_URL_S3
  --from YYYY-MM-DD             first UTC day (inclusive)        } both or neither; default: the 7
  --to YYYY-MM-DD               end UTC day (exclusive)          } complete UTC days before the lag
  --contract URN                only this contract (repeatable), e.g. urn:li:contract:123456; LinkedIn's
                                urn:li:contract:<id> and the seed spec's urn:li:salesContract:<id> name the
                                same contract; default: every contract with reporting access
  --datasets LIST               comma-separated: seat,activity,activityOutcome,crmDataValidation (default: the
                                three analytics ones, plus crmDataValidation when CRM instances are configured)
  --crm-instance URN            a CRM instance whose stale contacts to export (repeatable; needs crmDataValidation
                                in --datasets when --datasets is given), e.g.
                                'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)'
  --allow-download-host HOST    local: also accept download URLs on HOST[:PORT] (repeatable; no port = the
                                default one; http only to a loopback IP, e.g. 127.0.0.1:4010)
  --time-scale F                local: multiply every wait by F (default 0.001 with the emulator, 1 otherwise)
  --concurrency N               local: lanes (contract × dataset) exported at once, 1-10000 (default 3000)
  --force                       export again even if the object already exists
                                (by default only the days no object holds are exported)
  --state-machine-arn ARN       AWS mode: start this ExportRun state machine and follow the execution
  --no-wait                     AWS mode: start the execution, print its ARN and console URL, do not follow
  --stop EXECUTION_ARN          stop that ExportRun execution (AWS)
  --demo                        the demo: built-in emulator, the last 3 complete days and one CRM instance,
                                into ./exports-demo
  --output text|json            json: print the result as one JSON document on stdout (default text)
  --quiet                       no live progress
  -h, --help                    this help

Coverage options (npm run export -- coverage):
  --dest DIR|s3://bucket/prefix the destination to read (default ./exports); the deployed bucket is
                                s3://<BucketName output>/<bucketPrefix> (AWS credentials from the environment)
  --from YYYY-MM-DD --to YYYY-MM-DD  the range to check (default: first to last day any object holds)
  --contract URN, --datasets LIST    only these lanes (default: every contract found, all datasets)
  --source linkedin|emulator    whose objects count (default linkedin; emulator for ./exports-demo)
  --json                        print the report as one JSON document

Windows are [start, end): the start day is included, the end day is not.
Ctrl-C stops a local run cleanly (no new LinkedIn job, the manifest written; run again to resume);
a second Ctrl-C exits at once. In AWS mode Ctrl-C only stops following the execution.

Exit codes: 0 all items exported or skipped, 1 some item failed or the run was interrupted (see the
manifest), 2 bad arguments or configuration (the message says what to fix).`;

/** `npm run export -- coverage`'s arguments. */
export interface CoverageArgs {
  dest: string;
  from?: string;
  to?: string;
  contracts?: string[];
  datasets?: Dataset[];
  source: DataSource;
  json: boolean;
}

/** Parses the arguments after `coverage`; the same validation of days, contracts and datasets as a run. */
export function parseCoverageCli(argv: string[]): CoverageArgs | 'help' {
  let parsed: ReturnType<typeof parseCoverageRaw>;
  try {
    parsed = parseCoverageRaw(argv);
  } catch (err) {
    const unknown = /^Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (!unknown) throw new UsageError((err as Error).message);
    const near = closest(unknown.replace(/^-+/, '').split('=')[0] ?? '', Object.keys(COVERAGE_OPTIONS));
    throw new UsageError(`coverage: unknown option ${unknown}${near ? ` (did you mean --${near}?)` : ''}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length)
    throw new UsageError(`coverage: unexpected argument: ${parsed.positionals[0]}`);
  const source = v.source ?? 'linkedin';
  if (source !== 'linkedin' && source !== 'emulator') {
    throw new UsageError(`--source: must be linkedin or emulator, got ${source}`);
  }
  const datasets = v.datasets?.split(',').map((d) => d.trim());
  let input: RunInput;
  try {
    input = parseRunInput({
      ...(v.contract && { contracts: v.contract }),
      ...(datasets && { datasets }),
      ...(v.from !== undefined && { from: v.from }),
      ...(v.to !== undefined && { to: v.to }),
    });
    resolveRange(input, new Date(), 0);
  } catch (err) {
    throw new UsageError(
      (err as Error).message
        .replace('invalid execution input: ', '')
        .replace(/\bcontracts(\.\d+)?:/g, '--contract:')
        .replace(/\bdatasets(\.\d+)?:/g, `--datasets (one of ${DATASETS.join(', ')}):`)
        .replace(/\b(from|to):/g, '--$1:'),
    );
  }
  // Coverage is counted in UTC days, which only the analytics exports have (CRM exports follow a cursor).
  const isAnalytics = (d: string): d is Dataset => (DATASETS as readonly string[]).includes(d);
  const other = input.datasets?.filter((d) => !isAnalytics(d)) ?? [];
  if (other.length) {
    throw new UsageError(
      `coverage --datasets: ${other.join(', ')} has no day coverage; choose from ${DATASETS.join(', ')}`,
    );
  }
  const analytics = input.datasets?.filter(isAnalytics);
  return {
    dest: v.dest ?? DEFAULT_DEST,
    ...(input.from && { from: input.from }),
    ...(input.to && { to: input.to }),
    ...(input.contracts && { contracts: input.contracts }),
    ...(analytics && { datasets: [...new Set(analytics)] }),
    source,
    json: v.json ?? false,
  };
}

const COVERAGE_OPTIONS = {
  dest: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  contract: { type: 'string', multiple: true },
  datasets: { type: 'string' },
  source: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCoverageRaw(argv: string[]) {
  return parseArgs({ args: argv, strict: true, allowPositionals: true, options: COVERAGE_OPTIONS });
}

const DEMO_DAYS = 3;
export const DEFAULT_DEST = './exports';
export const DEFAULT_DEMO_DEST = './exports-demo';

/** Flags that only mean something in one mode; given in another they are refused, not ignored. */
const LOCAL_ONLY = ['api-url', 'emulator', 'dest', 'allow-download-host', 'time-scale'] as const;
const AWS_ONLY = ['no-wait'] as const;
const RUN_FLAGS = [
  'from',
  'to',
  'contract',
  'datasets',
  'crm-instance',
  'force',
  'quiet',
  'concurrency',
  ...LOCAL_ONLY,
  ...AWS_ONLY,
] as const;

export function parseCli(argv: string[]): Args | 'help' {
  let parsed: ReturnType<typeof parseCliRaw>;
  try {
    parsed = parseCliRaw(argv);
  } catch (err) {
    throw new UsageError(describeParseError(err as Error));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const demo = v.demo ?? false;
  const emulator = (v.emulator ?? false) || demo;
  const local = (v.local ?? false) || emulator;
  const aws = v['state-machine-arn'] !== undefined;
  const stop = v.stop !== undefined;
  if ([local, aws, stop].filter(Boolean).length !== 1) {
    throw new UsageError(
      'choose one mode: --local (with --api-url URL or --emulator), --state-machine-arn ARN, or --stop EXECUTION_ARN',
    );
  }
  const given = (flag: string): boolean => (v as Record<string, unknown>)[flag] !== undefined;
  const refuse = (flags: readonly string[], mode: string): void => {
    const wrong = flags.filter(given);
    if (wrong.length) {
      throw new UsageError(
        `${wrong.map((f) => `--${f}`).join(', ')} ${wrong.length > 1 ? 'do' : 'does'} not apply ${mode}; remove ${wrong.length > 1 ? 'them' : 'it'}`,
      );
    }
  };
  if (aws && given('concurrency')) {
    throw new UsageError(
      '--concurrency is for local runs; a deployed stack takes its lane concurrency from the mapConcurrency context key',
    );
  }
  if (aws) refuse(LOCAL_ONLY, 'in AWS mode (--state-machine-arn): the deployed stack has its own settings');
  if (local) refuse(AWS_ONLY, 'to a local run');
  if (stop) refuse(RUN_FLAGS, 'to --stop');
  if (emulator && v['api-url'] !== undefined) {
    throw new UsageError('--api-url and --emulator exclude each other: choose the real API or the emulator');
  }
  if (local && !emulator && v['api-url'] === undefined) {
    throw new UsageError(
      '--local needs a LinkedIn API: add --api-url https://api.linkedin.com/v2 (token in LINKEDIN_ACCESS_TOKEN), ' +
        'or --emulator for the built-in emulator with made-up data',
    );
  }
  if (v['api-url'] !== undefined && !/^https?:\/\//.test(v['api-url'])) {
    throw new UsageError(`--api-url: not an http(s) URL: ${v['api-url']} (e.g. https://api.linkedin.com/v2)`);
  }
  if (v['api-url'] !== undefined && !URL.canParse(v['api-url'])) {
    throw new UsageError(`--api-url: not a URL: ${v['api-url']}`);
  }
  const output = v.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new UsageError(`--output: must be text or json, got ${output}`);
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
  const datasets = v.datasets?.split(',').map((d) => d.trim());
  const known = [...DATASETS, CRM_DATASET];
  for (const dataset of datasets ?? []) {
    if ((known as readonly string[]).includes(dataset)) continue;
    const near = closest(dataset, known);
    throw new UsageError(
      `--datasets: unknown dataset "${dataset}"${near ? ` (did you mean ${near}?)` : ''}; one of ${known.join(', ')}`,
    );
  }
  if (v['crm-instance'] && datasets && !datasets.includes(CRM_DATASET)) {
    throw new UsageError(
      `--crm-instance: given, but --datasets does not include ${CRM_DATASET}; add it (--datasets ${[...datasets, CRM_DATASET].join(',')}) or drop --crm-instance`,
    );
  }
  if (local && datasets?.includes(CRM_DATASET) && !v['crm-instance'] && !demo) {
    throw new UsageError(
      `--datasets ${CRM_DATASET}: a local run needs the CRM instances to export: add --crm-instance URN (repeatable), e.g. --crm-instance 'urn:li:crmInstance:(DYNAMICS,<instance id>)'`,
    );
  }
  for (const instance of v['crm-instance'] ?? []) {
    const checked = CrmInstanceUrnSchema.safeParse(instance);
    if (!checked.success) {
      throw new UsageError(
        `--crm-instance ${instance}: ${checked.error.issues[0]?.message ?? 'not a CRM instance URN'}`,
      );
    }
  }
  for (const contract of v.contract ?? []) {
    const checked = ContractUrnSchema.safeParse(contract);
    if (!checked.success) {
      throw new UsageError(
        `--contract ${contract}: ${checked.error.issues[0]?.message ?? 'not a contract URN'}`,
      );
    }
  }
  const raw: Record<string, unknown> = {
    ...(v.contract && { contracts: v.contract }),
    ...(datasets && { datasets }),
    ...(v['crm-instance'] && { crmInstances: v['crm-instance'] }),
    ...(v.from !== undefined && { from: v.from }),
    ...(v.to !== undefined && { to: v.to }),
    ...(v.force && { force: true }),
  };
  if (demo && v.from === undefined && v.to === undefined) {
    const today = utcDay(new Date());
    Object.assign(raw, { from: addDays(today, -DEMO_DAYS), to: today });
  }
  // The demo exports one CRM instance of the emulator too, unless --datasets leaves the family out.
  if (demo && !v['crm-instance'] && (!datasets || datasets.includes(CRM_DATASET))) {
    Object.assign(raw, { crmInstances: [DEFAULT_CRM_INSTANCE] });
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
        .replace(/\bcrmInstances(\.\d+)?:/g, '--crm-instance:')
        .replace(/\bdatasets(\.\d+)?:/g, `--datasets (one of ${[...DATASETS, CRM_DATASET].join(', ')}):`)
        .replace(/\b(from|to):/g, '--$1:'),
    );
  }
  const apiUrl = v['api-url'];
  if (apiUrl !== undefined && !isSecureApiUrl(apiUrl)) {
    throw new UsageError(
      `--api-url ${apiUrl.replace(/[?#].*$/, '')} must be https (the token is sent to it); http is allowed only to a loopback IP such as 127.0.0.1`,
    );
  }
  for (const host of v['allow-download-host'] ?? []) {
    if (!parseHostPattern(host)) {
      throw new UsageError(
        `--allow-download-host ${host}: expected a host (dl.example.com), *.example.com (at least two labels after *.), or an IP, with an optional :port`,
      );
    }
  }
  return {
    local,
    demo,
    emulator,
    apiUrl,
    dest: v.dest ?? (emulator ? DEFAULT_DEMO_DEST : DEFAULT_DEST),
    input,
    allowHosts: v['allow-download-host'] ?? [],
    timeScale,
    concurrency,
    stateMachineArn: v['state-machine-arn'],
    stopExecutionArn: v.stop,
    noWait: v['no-wait'] ?? false,
    output,
    quiet: v.quiet ?? false,
  };
}

/** node:util's parse errors, with the flag named and the likeliest meant one suggested. */
function describeParseError(err: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message)?.[1];
  if (unknown) {
    const near = closest(unknown.replace(/^-+/, '').split('=')[0] ?? '', Object.keys(OPTIONS));
    return `unknown option ${unknown}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  return err.message;
}

/** The candidate nearest to `word` (edit distance at most 2, or a prefix of it), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d =
      candidate.startsWith(word) && word.length >= 3
        ? 1
        : editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, transpositions counted as one edit (`--form` → `--from`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] ?? 0, ((d[i - 2] as number[])[j - 2] ?? 0) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] ?? 0;
}

const OPTIONS = {
  local: { type: 'boolean' },
  demo: { type: 'boolean' },
  emulator: { type: 'boolean' },
  'api-url': { type: 'string' },
  dest: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  contract: { type: 'string', multiple: true },
  datasets: { type: 'string' },
  'crm-instance': { type: 'string', multiple: true },
  'allow-download-host': { type: 'string', multiple: true },
  'time-scale': { type: 'string' },
  concurrency: { type: 'string' },
  force: { type: 'boolean' },
  'state-machine-arn': { type: 'string' },
  'no-wait': { type: 'boolean' },
  stop: { type: 'string' },
  output: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCliRaw(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}
