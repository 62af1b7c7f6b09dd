// The LinkedIn emulator: a stateful HTTP server for the contracts and export-job endpoints.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as z from 'zod';
import { msToDay } from '#common/days';
import { ContractUrnSchema, DATASETS, type Dataset, EXPORT_ACTIONS, type JobStatus } from '#common/model';
import { contractId } from '#storage/keys';
import {
  type CrmEmulatorOptions,
  CrmEmulatorOptionsSchema,
  CrmEndpoints,
  type CrmJobSummary,
  type CrmKnobs,
} from './crm.ts';
import { type CsvSpec, csvBuffer, csvByteLength, csvChunks, csvRowCount, DAY_MS } from './csv.ts';
import {
  OAUTH_BASE_PATH,
  type OAuthEmulatorOptions,
  OAuthEmulatorOptionsSchema,
  OAuthEndpoints,
} from './oauth.ts';
import { laneKey, ScenarioBook, type ScenarioKnobs, ScenariosSchema } from './scenarios.ts';

/**
 * A local, stateful LinkedIn Sales Navigator API (the parts of the seed spec the pipeline uses),
 * plus a media host serving the export files behind expiring signed URLs. Plain http on loopback.
 * Time comes from `options.now`, so tests can drive the job lifecycle without sleeping.
 */

export const API_BASE_PATH = '/v2';

/** A contract as the emulator serves it (the spec's `description` is optional, never null). */
const ContractSchema = z
  .object({
    contract: ContractUrnSchema,
    name: z.string().min(1),
    description: z.string().optional(),
    hasReportingAccess: z.boolean(),
  })
  .strict();

export type EmulatorContract = z.infer<typeof ContractSchema>;

/**
 * How the emulator writes contract URNs: `documented` is LinkedIn's reference (`urn:li:contract:<id>`),
 * `seed` the seed spec's (`urn:li:salesContract:<id>`).
 */
export const CONTRACT_URN_STYLES = ['documented', 'seed'] as const;
export type ContractUrnStyle = (typeof CONTRACT_URN_STYLES)[number];
const URN_PREFIX: Record<ContractUrnStyle, string> = {
  documented: 'urn:li:contract:',
  seed: 'urn:li:salesContract:',
};

/** The default contracts (ids 1001-1003) with URNs in `style`. */
export function defaultContracts(style: ContractUrnStyle = 'documented'): EmulatorContract[] {
  const urn = (id: number) => `${URN_PREFIX[style]}${id}`;
  return [
    {
      contract: urn(1001),
      name: 'Acme EMEA',
      description: 'Sales Navigator Advanced Plus, EMEA sales team',
      hasReportingAccess: true,
    },
    { contract: urn(1002), name: 'Acme Americas', hasReportingAccess: true },
    {
      contract: urn(1003),
      name: 'Acme Partners',
      description: 'Seats without reporting access',
      hasReportingAccess: false,
    },
  ];
}

/** The default contracts as LinkedIn's reference writes them (`urn:li:contract:1001` ...). */
export const DEFAULT_CONTRACTS: EmulatorContract[] = defaultContracts('documented');

const EmulatorOptionsSchema = z
  .object({
    /** Port on 127.0.0.1; 0 (default) picks a free one. */
    port: z.number().int().min(0).max(65_535).default(0),
    /** The only accepted access token. Default: random. */
    token: z
      .string()
      .regex(/^[\x21-\x7e]{8,512}$/, 'must be 8-512 visible ASCII characters')
      .optional(),
    /** URN form of the default contracts (ignored when `contracts` is given). @default 'documented' */
    contractUrns: z.enum(CONTRACT_URN_STYLES).default('documented'),
    /** The contracts served. @default defaultContracts(contractUrns) */
    contracts: z.array(ContractSchema).optional(),
    /** A job waits `queuedMs` ENQUEUED (and behind its lane), then stays `processingMs` PROCESSING. */
    jobTimings: z
      .object({
        queuedMs: z.number().int().min(0).default(200),
        processingMs: z.number().int().min(0).default(300),
      })
      .strict()
      .prefault({}),
    /** Lifetime of a download URL (LinkedIn: 1 hour). */
    urlTtlMs: z.number().int().min(1).default(3_600_000),
    /** Data rows per UTC day in every file (and seats per contract). */
    rowsPerDay: z.number().int().min(0).max(1_000_000).default(5),
    scenarios: ScenariosSchema.default({}),
    /** The CRM data validation endpoints: instances, timings, parts per job, knobs (crm.ts). */
    crm: z.custom<CrmEmulatorOptions>((v) => CrmEmulatorOptionsSchema.safeParse(v).success).default({}),
    /** The OAuth endpoints: client credentials, consent, expires_in, refresh on or off (oauth.ts). */
    oauth: z.custom<OAuthEmulatorOptions>((v) => OAuthEmulatorOptionsSchema.safeParse(v).success).default({}),
    /** Clock (epoch ms). Default `Date.now`. */
    now: z.custom<() => number>((v) => typeof v === 'function', 'must be a function').default(() => Date.now),
  })
  .strict();

export type EmulatorOptions = z.input<typeof EmulatorOptionsSchema>;

export interface RecordedRequest {
  method: string;
  /** Path without the query string (a download URL's signature never lands here). */
  path: string;
  /** 0 while the response head has not been written yet. */
  status: number;
  /** When it arrived, on the emulator's clock (epoch ms). */
  at: number;
}

export interface JobSummary {
  id: number;
  contract: string;
  dataset: Dataset;
  window: { startAt: number; endAt: number };
  status: JobStatus;
  createdAt: number;
}

export interface Emulator {
  /** API base URL, e.g. `http://127.0.0.1:PORT/v2`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly token: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  jobs(): JobSummary[];
  /** Replaces the knobs of one (contract, dataset) lane; `{}` clears them. */
  setScenario(contract: string, dataset: Dataset, knobs: ScenarioKnobs): void;
  /** The lane's knobs as they are now (counters decrement as they fire). */
  scenario(contract: string, dataset: Dataset): ScenarioKnobs;
  /** From now on every API call answers 401 EXPIRED_ACCESS_TOKEN. */
  revokeToken(): void;
  /** `http://127.0.0.1:PORT/oauth/v2`: authorization, accessToken, introspectToken. */
  readonly oauthUrl: string;
  /** The OAuth endpoints: client credentials, knobs, tokens issued (oauth.ts). */
  readonly oauth: OAuthEndpoints;
  /** The exact bytes a COMPLETED job over `[startMs, endMs)` serves. */
  expectedCsv(contract: string, dataset: Dataset, startMs: number, endMs: number): Buffer;
  /** The CRM data validation jobs created so far. */
  crmJobs(): CrmJobSummary[];
  /** Replaces the knobs of one CRM instance; `{}` clears them. */
  setCrmScenario(crmInstance: string, knobs: CrmKnobs): void;
  crmScenario(crmInstance: string): CrmKnobs;
  /** The data rows (no header) every CRM export of `[startAt, endAt)` of the instance holds, in order. */
  expectedCrmRows(crmInstance: string, startAt: number, endAt: number): string[];
  close(): Promise<void>;
}

interface Job {
  id: number;
  contract: string;
  dataset: Dataset;
  startAt: number;
  endAt: number;
  createdAt: number;
  /** The lane timeline is fixed at creation: jobs are never cancelled, so this is exact. */
  processingAt: number;
  finishedAt: number;
  outcome: JobStatus;
  file: string;
  /** Signed links handed out: signature → expiry (epoch ms). */
  links: Map<string, number>;
  current?: { sig: string; exp: number };
  bytes?: number;
}

/**
 * An error answer, sent as LinkedIn's documented body `{message, serviceErrorCode, status}` (shared
 * "Error handling" page). LinkedIn publishes no list of subcodes; its only sample has
 * `serviceErrorCode` equal to `status`, and so does every emulator answer.
 */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 64 * 1024;
/** LinkedIn's limit, stated here on its own: the emulator must not follow a change to the client's constant. */
const MAX_WINDOW_DAYS = 90;
const CONTRACTS_PATH = `${API_BASE_PATH}/salesContracts`;
const JOBS_PATH = `${API_BASE_PATH}/salesAnalyticsExportJobs`;
const MEDIA_PATH = /^\/media\/exports\/(\d{1,15})\/([\w.-]+\.csv)$/;
const DATASET_OF_ACTION = new Map<string, Dataset>(DATASETS.map((d) => [EXPORT_ACTIONS[d], d]));

const digits = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a non-negative integer')
  .transform(Number);
const ContractsQuerySchema = z.object({
  q: z.literal('contractsByMember'),
  start: digits.default(0),
  count: digits.default(10),
});
const CreateQuerySchema = z.object({
  action: z
    .string()
    .refine((a) => DATASET_OF_ACTION.has(a), `must be one of ${[...DATASET_OF_ACTION.keys()].join(', ')}`)
    .transform((a) => DATASET_OF_ACTION.get(a) as Dataset),
});
const CreateBodySchema = z
  .object({ contract: z.string().min(1), startAt: z.number().int(), endAt: z.number().int() })
  .strict();
const GetQuerySchema = z.object({ contract: z.string().min(1) });

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = EmulatorOptionsSchema.parse(options);
  const contracts = opts.contracts ?? defaultContracts(opts.contractUrns);
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const now = opts.now;
  const scenarios = new ScenarioBook(opts.scenarios);
  const jobs = new Map<number, Job>();
  const laneTail = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  let revoked = false;
  let nextId = 900_000_001;
  let origin = '';

  const spec = (job: Pick<Job, 'contract' | 'dataset' | 'startAt' | 'endAt'>): CsvSpec => ({
    contract: job.contract,
    dataset: job.dataset,
    startMs: job.startAt,
    endMs: job.endAt,
    rowsPerDay: opts.rowsPerDay,
  });

  const statusAt = (job: Job, t: number): JobStatus =>
    t < job.processingAt ? 'ENQUEUED' : t < job.finishedAt ? 'PROCESSING' : job.outcome;

  function authenticate(req: IncomingMessage): void {
    const authorization = req.headers.authorization?.trim();
    // LinkedIn's own sample error: `{"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}`.
    if (!authorization) throw new HttpError(401, 'Empty oauth2_access_token');
    const presented = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    // The fixed token, or one the OAuth endpoints issued (valid until its expires_in has passed).
    const issued = presented === undefined ? 'unknown' : oauth.check(presented);
    if (issued === 'expired') throw expiredToken();
    if (presented === undefined || (issued === 'unknown' && !sameSecret(presented, token))) {
      throw new HttpError(401, 'Invalid access token');
    }
    if (revoked) throw expiredToken();
    if (req.headers['x-restli-protocol-version'] !== '2.0.0') {
      throw new HttpError(400, 'X-Restli-Protocol-Version: 2.0.0 is required');
    }
  }

  /** Lane-level knobs that answer instead of the real handler: 401, 429, 5xx. */
  function laneFaults(contract: string, dataset: Dataset): void {
    if (scenarios.unauthorized(contract, dataset)) throw expiredToken();
    const fault = scenarios.takeFault(contract, dataset);
    if (fault?.status === 429) {
      throw new HttpError(429, 'Resource level throttle limit reached', {
        'retry-after': String(fault.retryAfterSeconds ?? 0),
      });
    }
    if (fault) throw new HttpError(fault.status, 'Simulated server error');
  }

  function listContracts(url: URL): string {
    const { start, count } = parse(ContractsQuerySchema, query(url), 'query');
    // Rest.li paging: `count` echoes the requested page size; the last page is the first one
    // holding fewer than `count` elements. LinkedIn does not promise `total`, so it is omitted.
    return JSON.stringify({
      elements: contracts.slice(start, start + count),
      paging: { count, start, links: [] },
    });
  }

  async function createJob(req: IncomingMessage, url: URL): Promise<string> {
    const { action: dataset } = parse(CreateQuerySchema, query(url), 'query');
    const body = parse(CreateBodySchema, await readJson(req), 'body');
    laneFaults(body.contract, dataset);
    const contract = contracts.find((c) => c.contract === body.contract);
    if (!contract?.hasReportingAccess) {
      throw new HttpError(403, `Not enough permissions to export data of ${body.contract}`);
    }
    const invalid = windowProblem(body.startAt, body.endAt);
    if (invalid) throw new HttpError(400, invalid);

    const createdAt = now();
    const lane = laneKey(body.contract, dataset);
    const processingAt = Math.max(createdAt + opts.jobTimings.queuedMs, laneTail.get(lane) ?? 0);
    const finishedAt = processingAt + opts.jobTimings.processingMs;
    laneTail.set(lane, finishedAt);
    const maxDays = scenarios.maxDaysPerFile(body.contract, dataset);
    const tooLarge = maxDays !== undefined && body.endAt - body.startAt > maxDays * DAY_MS;
    const job: Job = {
      id: nextId++,
      contract: body.contract,
      dataset,
      startAt: body.startAt,
      endAt: body.endAt,
      createdAt,
      processingAt,
      finishedAt,
      outcome: tooLarge
        ? 'FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR'
        : (scenarios.takeJobFailure(body.contract, dataset) ?? 'COMPLETED'),
      file: `${dataset}-${contractId(body.contract)}-${msToDay(body.startAt)}_${msToDay(body.endAt)}.csv`,
      links: new Map(),
    };
    jobs.set(job.id, job);
    return JSON.stringify({ value: { id: job.id, status: 'ENQUEUED' } });
  }

  function getJob(url: URL, rawId: string): string {
    if (!/^\d{1,15}$/.test(rawId)) throw new HttpError(400, 'Job id must be an integer');
    const { contract } = parse(GetQuerySchema, query(url), 'query');
    const job = jobs.get(Number(rawId));
    if (!job || job.contract !== contract) {
      throw new HttpError(404, `No export job ${rawId} for this contract`);
    }
    laneFaults(job.contract, job.dataset);
    if (scenarios.take(job.contract, job.dataset, 'malformedJson')) return MALFORMED;
    const unknown = scenarios.takeUnknownStatus(job.contract, job.dataset);
    if (unknown) return JSON.stringify({ id: job.id, status: unknown });
    const t = now();
    const status = statusAt(job, t);
    if (status !== 'COMPLETED') return JSON.stringify({ id: job.id, status });
    if (scenarios.emptyExport(job.contract, job.dataset)) {
      return JSON.stringify({ id: job.id, status, rowCount: 0 });
    }
    if (scenarios.take(job.contract, job.dataset, 'completedWithoutUrl')) {
      return JSON.stringify({ id: job.id, status, rowCount: csvRowCount(spec(job)) });
    }
    if (!job.current || job.current.exp <= t) {
      const expired = scenarios.take(job.contract, job.dataset, 'expiredUrls');
      job.current = { sig: randomBytes(16).toString('hex'), exp: expired ? t - 1 : t + opts.urlTtlMs };
      job.links.set(job.current.sig, job.current.exp);
    }
    const { sig, exp } = job.current;
    return JSON.stringify({
      id: job.id,
      status,
      downloadUrl: `${origin}/media/exports/${job.id}/${job.file}?sig=${sig}&exp=${exp}`,
      expireAt: exp,
      rowCount: csvRowCount(spec(job)),
    });
  }

  async function download(
    res: ServerResponse,
    record: RecordedRequest,
    url: URL,
    rawId: string,
    file: string,
  ) {
    const job = jobs.get(Number(rawId));
    const sig = url.searchParams.get('sig') ?? '';
    const exp = job?.links.get(sig);
    if (!job || job.file !== file || exp === undefined || url.searchParams.get('exp') !== String(exp)) {
      throw new HttpError(403, 'Signature does not match');
    }
    if (exp <= now()) throw new HttpError(403, 'Request has expired');
    const csv = spec(job);
    job.bytes ??= csvByteLength(csv);
    const truncate = scenarios.take(job.contract, job.dataset, 'truncateDownloads');
    writeHead(res, record, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-length': job.bytes,
      'content-disposition': `attachment; filename="${file}"`,
    });
    const limit = truncate ? Math.floor(job.bytes / 2) : Number.POSITIVE_INFINITY;
    await pipeline(Readable.from(limitBytes(csvChunks(csv), limit)), res, { end: false });
    // A truncated download promised the full Content-Length: reset the connection mid-body.
    if (truncate) res.destroy();
    else res.end();
  }

  const oauth = new OAuthEndpoints(opts.oauth, now);
  const crm = new CrmEndpoints(opts.crm, {
    now,
    origin: () => origin,
    urlTtlMs: opts.urlTtlMs,
    authenticate,
    httpError: (status, message, headers) => new HttpError(status, message, headers),
    expiredToken,
    readJson,
  });

  async function route(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, url: URL) {
    const path = url.pathname;
    if (crm.handles(path)) return crm.route(req, res, url, (s, h) => writeHead(res, record, s, h));
    if (oauth.handles(path)) return oauth.route(req, res, url, (s, h) => writeHead(res, record, s, h));
    const media = MEDIA_PATH.exec(path);
    if (media) {
      allow(req, 'GET');
      return download(res, record, url, media[1] as string, media[2] as string);
    }
    const jobId = path.startsWith(`${JOBS_PATH}/`) ? path.slice(JOBS_PATH.length + 1) : undefined;
    if (path !== CONTRACTS_PATH && path !== JOBS_PATH && (jobId === undefined || jobId.includes('/'))) {
      throw new HttpError(404, `No route for ${path}`);
    }
    allow(req, path === JOBS_PATH ? 'POST' : 'GET');
    authenticate(req);
    const text =
      jobId !== undefined
        ? getJob(url, jobId)
        : path === JOBS_PATH
          ? await createJob(req, url)
          : listContracts(url);
    writeHead(res, record, 200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-restli-protocol-version': '2.0.0',
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
      at: now(),
    };
    requests.push(record);
    route(req, res, record, url).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = err instanceof HttpError ? err : new HttpError(500, 'Internal emulator error');
      const text = JSON.stringify({ message: e.message, serviceErrorCode: e.status, status: e.status });
      writeHead(res, record, e.status, {
        ...e.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A run of thousands of lanes opens thousands of connections at once: a deep accept queue keeps
    // them from waiting for SYN retries (Node's default backlog is 511).
    server.listen({ port: opts.port, host: '127.0.0.1', backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}${API_BASE_PATH}`,
    origin,
    oauthUrl: `${origin}${OAUTH_BASE_PATH}`,
    oauth,
    token,
    requests,
    jobs: () => {
      const t = now();
      return [...jobs.values()].map((j) => ({
        id: j.id,
        contract: j.contract,
        dataset: j.dataset,
        window: { startAt: j.startAt, endAt: j.endAt },
        status: statusAt(j, t),
        createdAt: j.createdAt,
      }));
    },
    setScenario: (contract, dataset, knobs) => scenarios.set(contract, dataset, knobs),
    scenario: (contract, dataset) => scenarios.get(contract, dataset),
    revokeToken: () => {
      revoked = true;
    },
    expectedCsv: (contract, dataset, startMs, endMs) =>
      csvBuffer(spec({ contract, dataset, startAt: startMs, endAt: endMs })),
    crmJobs: () => crm.summaries(),
    setCrmScenario: (crmInstance, knobs) => crm.setKnobs(crmInstance, knobs),
    crmScenario: (crmInstance) => crm.knobsOf(crmInstance),
    expectedCrmRows: (crmInstance, startAt, endAt) => crm.rows(crmInstance, startAt, endAt),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** What a `malformedJson` knob answers: a job body cut off mid-value. */
const MALFORMED = '{"id": 1, "status": "COMPL';

function expiredToken(): HttpError {
  return new HttpError(401, 'The token used in the request has expired or was revoked');
}

/** The 400 message for a bad export window, or undefined when it is acceptable. */
function windowProblem(startAt: number, endAt: number): string | undefined {
  if (startAt % DAY_MS !== 0 || endAt % DAY_MS !== 0) return 'startAt and endAt must be midnight UTC';
  if (endAt <= startAt) return 'endAt must be after startAt';
  if (endAt - startAt > MAX_WINDOW_DAYS * DAY_MS)
    return `The time range must not exceed ${MAX_WINDOW_DAYS} days`;
  return undefined;
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) {
    throw new HttpError(405, `${req.method} is not allowed here`, { allow: method });
  }
}

function writeHead(
  res: ServerResponse,
  record: RecordedRequest,
  status: number,
  headers: OutgoingHttpHeaders,
) {
  record.status = status;
  res.writeHead(status, headers);
}

function query(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams);
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [where, ...(issue?.path ?? [])].join('.');
  throw new HttpError(400, `${field}: ${issue?.message ?? 'invalid'}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body: not valid JSON');
  }
}

function* limitBytes(chunks: Iterable<Buffer>, limit: number): Generator<Buffer> {
  let sent = 0;
  for (const chunk of chunks) {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    yield part;
  }
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
