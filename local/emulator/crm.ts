// The emulator's CRM data validation endpoints, as LinkedIn documents them: 201 + X-RestLi-Id, several parts, cursors, knobs.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import * as z from 'zod';
import { CrmInstanceUrnSchema } from '#common/crm';

/**
 * `POST /v2/crmDataValidationExportJobs?crmInstanceId=<URN>` answers `201 Created` with the id in
 * `X-RestLi-Id` and `Location` and no body (LinkedIn's reference sample); `GET …/{id}?crmInstanceId=`
 * answers the seed spec's job `{jobId, exportStartAt, exportEndAt, status, downloadUrls, nextExportStartAt,
 * expireAt}`. An export covers `[exportStartAt, the job's creation)`, so `nextExportStartAt` is where the
 * previous one ended and consecutive exports neither overlap nor leave a gap. Its rows are the stale
 * records "found" in that range, one every `minutesPerRow` minutes on a fixed grid (so any two
 * exports of adjacent ranges hold exactly the rows of one export of the whole), spread over
 * `partsPerJob` download URLs, each a CSV with a header. The file columns are the emulator's own:
 * LinkedIn does not document them (docs/linkedin-api-notes.md).
 */

export const CRM_JOBS_PATH = '/v2/crmDataValidationExportJobs';
const CRM_MEDIA_PATH = /^\/media\/crm\/(\d{1,15})\/part-(\d{1,4})\.csv$/;
/** LinkedIn: "Job IDs will expire 1 week after they are created". */
const JOB_ID_LIFETIME_MS = 7 * 86_400_000;
/** The emulator's columns (LinkedIn documents none for this export). */
export const CRM_CSV_HEADER = 'crmRecordId,recordType,validatedAt,crmCompanyName,linkedInCompanyName';

/** LinkedIn's documented sample instance; the emulator serves it by default. */
export const DEFAULT_CRM_INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';

const times = z.number().int().min(0);

/** Misbehaviour of one instance's calls; counters decrement as they fire. */
export const CrmKnobsSchema = z
  .object({
    /** Every call for this instance answers 401. */
    unauthorized: z.boolean(),
    /** 429 with `Retry-After` on create and get. */
    throttle: z.object({ times, retryAfterSeconds: z.number().int().min(0) }).strict(),
    /** 5xx (default 500) on create and get. */
    serverError: z.object({ times, status: z.number().int().min(500).max(599).default(500) }).strict(),
    /** The next n jobs created end FAILED_DUE_TO_INTERNAL_ERROR. */
    failJobs: times,
    /** The next `times` reads answer `status` (one LinkedIn does not document) instead of the real one. */
    unknownStatus: z.object({ status: z.string().regex(/^[A-Z][A-Z0-9_]{0,79}$/), times }).strict(),
    /** The first n download URLs handed out are already expired (the download answers 403). */
    expiredUrls: times,
    /** The next n downloads send the full Content-Length, about half the body, then reset. */
    truncateDownloads: times,
    /** The create also answers the seed spec's JSON body `{jobId, exportStartAt, status}`. */
    seedCreateBody: z.boolean(),
    /** Jobs are read without `exportEndAt` (only `nextExportStartAt`). */
    omitExportEndAt: z.boolean(),
  })
  .partial()
  .strict();
export type CrmKnobs = z.input<typeof CrmKnobsSchema>;

export const CrmEmulatorOptionsSchema = z
  .object({
    /** The instances the token may export. @default [DEFAULT_CRM_INSTANCE] */
    instances: z.array(CrmInstanceUrnSchema).default([DEFAULT_CRM_INSTANCE]),
    /** A job is PROCESSING this long (behind the instance's previous job), then COMPLETED. */
    processingMs: z.number().int().min(0).default(300),
    /** Download URLs (parts) per job with rows. */
    partsPerJob: z.number().int().min(1).max(50).default(3),
    /** One stale record per this many minutes of the exported range. */
    minutesPerRow: z
      .number()
      .int()
      .min(1)
      .default(12 * 60),
    knobs: z.record(z.string(), CrmKnobsSchema).default({}),
  })
  .strict();
export type CrmEmulatorOptions = z.input<typeof CrmEmulatorOptionsSchema>;

export interface CrmJobSummary {
  id: number;
  crmInstance: string;
  exportStartAt: number;
  exportEndAt: number;
  status: string;
  createdAt: number;
  processingUntil: number;
}

/** What the emulator's server lends the CRM routes. */
export interface CrmServerContext {
  now: () => number;
  origin: () => string;
  urlTtlMs: number;
  authenticate: (req: IncomingMessage) => void;
  httpError: (status: number, message: string, headers?: OutgoingHttpHeaders) => Error;
  expiredToken: () => Error;
  readJson: (req: IncomingMessage) => Promise<unknown>;
}

interface CrmJob {
  id: number;
  crmInstance: string;
  exportStartAt: number;
  exportEndAt: number;
  createdAt: number;
  processingUntil: number;
  outcome: 'COMPLETED' | 'FAILED_DUE_TO_INTERNAL_ERROR';
  /** The parts' CSV bytes, built once when first read COMPLETED. */
  parts?: Buffer[];
  links: Map<string, number>;
  current?: { sig: string; exp: number };
}

const CreateBodySchema = z.object({ exportStartAt: z.number().int().min(0) }).strict();

/** Writes a response head, recording its status in the emulator's request log. */
export type WriteHead = (status: number, headers: OutgoingHttpHeaders) => void;

function send(
  head: WriteHead,
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: Buffer | string = '',
): void {
  head(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export class CrmEndpoints {
  private readonly opts: z.output<typeof CrmEmulatorOptionsSchema>;
  private readonly knobs = new Map<string, z.output<typeof CrmKnobsSchema>>();
  private readonly jobs = new Map<number, CrmJob>();
  private readonly tail = new Map<string, number>();
  private nextId = 148;

  constructor(
    options: CrmEmulatorOptions,
    private readonly ctx: CrmServerContext,
  ) {
    this.opts = CrmEmulatorOptionsSchema.parse(options);
    for (const [instance, knobs] of Object.entries(this.opts.knobs)) this.setKnobs(instance, knobs);
  }

  handles(path: string): boolean {
    return path === CRM_JOBS_PATH || path.startsWith(`${CRM_JOBS_PATH}/`) || CRM_MEDIA_PATH.test(path);
  }

  setKnobs(crmInstance: string, knobs: CrmKnobs): void {
    this.knobs.set(crmInstance, CrmKnobsSchema.parse(knobs));
  }

  knobsOf(crmInstance: string): CrmKnobs {
    return structuredClone(this.knobs.get(crmInstance) ?? {});
  }

  summaries(): CrmJobSummary[] {
    const t = this.ctx.now();
    return [...this.jobs.values()].map((j) => ({
      id: j.id,
      crmInstance: j.crmInstance,
      exportStartAt: j.exportStartAt,
      exportEndAt: j.exportEndAt,
      status: t < j.processingUntil ? 'PROCESSING' : j.outcome,
      createdAt: j.createdAt,
      processingUntil: j.processingUntil,
    }));
  }

  /** The rows (without header) an export of `[startAt, endAt)` of the instance holds, in order. */
  rows(crmInstance: string, startAt: number, endAt: number): string[] {
    const step = this.opts.minutesPerRow * 60_000;
    const rows: string[] = [];
    const tag = crmInstance.replace(/^.*,|\)$/g, '').slice(0, 8);
    for (let t = Math.ceil(startAt / step) * step; t < endAt; t += step) {
      const n = t / step;
      const type = n % 3 === 0 ? 'LEAD' : 'CONTACT';
      const company = n % 5 === 0 ? '"Acme, Inc."' : `Company ${n % 17}`;
      rows.push(`${tag}-${n},${type},${new Date(t).toISOString()},${company},New Employer ${n % 11}`);
    }
    return rows;
  }

  async route(req: IncomingMessage, res: ServerResponse, url: URL, head: WriteHead): Promise<void> {
    const media = CRM_MEDIA_PATH.exec(url.pathname);
    if (media) return this.download(req, res, head, url, Number(media[1]), Number(media[2]));
    if (url.pathname === CRM_JOBS_PATH) {
      this.allow(req, 'POST');
      this.ctx.authenticate(req);
      return this.create(req, res, head, url);
    }
    const rawId = url.pathname.slice(CRM_JOBS_PATH.length + 1);
    if (rawId.includes('/')) throw this.ctx.httpError(404, `No route for ${url.pathname}`);
    this.allow(req, 'GET');
    this.ctx.authenticate(req);
    return this.get(res, head, url, rawId);
  }

  private async create(req: IncomingMessage, res: ServerResponse, head: WriteHead, url: URL): Promise<void> {
    const crmInstance = this.instanceOf(url);
    const parsed = CreateBodySchema.safeParse(await this.ctx.readJson(req));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.ctx.httpError(400, `body.${issue?.path.join('.') || 'exportStartAt'}: ${issue?.message}`);
    }
    this.faults(crmInstance);
    const { exportStartAt } = parsed.data;
    const createdAt = this.ctx.now();
    if (exportStartAt >= createdAt) throw this.ctx.httpError(400, 'exportStartAt must be in the past');
    const knobs = this.knobs.get(crmInstance);
    const failed = (knobs?.failJobs ?? 0) > 0;
    if (knobs && failed) knobs.failJobs = (knobs.failJobs ?? 0) - 1;
    const processingUntil = Math.max(createdAt, this.tail.get(crmInstance) ?? 0) + this.opts.processingMs;
    this.tail.set(crmInstance, processingUntil);
    const job: CrmJob = {
      id: this.nextId++,
      crmInstance,
      exportStartAt,
      exportEndAt: createdAt,
      createdAt,
      processingUntil,
      outcome: failed ? 'FAILED_DUE_TO_INTERNAL_ERROR' : 'COMPLETED',
      links: new Map(),
    };
    this.jobs.set(job.id, job);
    const headers = {
      location: `/crmDataValidationExportJobs/${job.id}`,
      'x-restli-id': String(job.id),
      'x-restli-protocol-version': '2.0.0',
    };
    if (knobs?.seedCreateBody) {
      const body = JSON.stringify({ jobId: job.id, exportStartAt, status: 'PROCESSING' });
      return send(head, res, 201, { ...headers, 'content-type': 'application/json' }, body);
    }
    send(head, res, 201, headers);
  }

  private get(res: ServerResponse, head: WriteHead, url: URL, rawId: string): void {
    if (!/^\d{1,15}$/.test(rawId)) throw this.ctx.httpError(400, 'Job id must be an integer');
    const crmInstance = this.instanceOf(url, false);
    const job = this.jobs.get(Number(rawId));
    const t = this.ctx.now();
    if (!job || job.crmInstance !== crmInstance || t - job.createdAt > JOB_ID_LIFETIME_MS) {
      throw this.ctx.httpError(404, `No CRM data validation export job ${rawId} for this CRM instance`);
    }
    this.faults(crmInstance);
    const knobs = this.knobs.get(crmInstance);
    const answer = (body: unknown) => {
      const text = JSON.stringify(body);
      send(
        head,
        res,
        200,
        { 'content-type': 'application/json', 'x-restli-protocol-version': '2.0.0' },
        text,
      );
    };
    const base = { jobId: job.id, exportStartAt: job.exportStartAt };
    if (knobs?.unknownStatus && knobs.unknownStatus.times > 0) {
      knobs.unknownStatus.times--;
      answer({ ...base, status: knobs.unknownStatus.status });
      return;
    }
    if (t < job.processingUntil) {
      answer({ ...base, status: 'PROCESSING' });
      return;
    }
    if (job.outcome !== 'COMPLETED') {
      answer({ ...base, status: job.outcome });
      return;
    }
    job.parts ??= this.partsOf(job);
    if (!job.current || job.current.exp <= t) {
      const expired = (knobs?.expiredUrls ?? 0) > 0;
      if (knobs && expired) knobs.expiredUrls = (knobs.expiredUrls ?? 0) - 1;
      job.current = { sig: randomBytes(16).toString('hex'), exp: expired ? t - 1 : t + this.ctx.urlTtlMs };
      job.links.set(job.current.sig, job.current.exp);
    }
    const { sig, exp } = job.current;
    const downloadUrls = job.parts.map(
      (_, i) => `${this.ctx.origin()}/media/crm/${job.id}/part-${i + 1}.csv?sig=${sig}&exp=${exp}`,
    );
    answer({
      ...base,
      ...(!knobs?.omitExportEndAt && { exportEndAt: job.exportEndAt }),
      status: 'COMPLETED',
      ...(downloadUrls.length > 0 && { downloadUrls }),
      nextExportStartAt: job.exportEndAt,
      expireAt: exp,
    });
  }

  private download(
    req: IncomingMessage,
    res: ServerResponse,
    head: WriteHead,
    url: URL,
    id: number,
    part: number,
  ): void {
    this.allow(req, 'GET');
    const job = this.jobs.get(id);
    const sig = url.searchParams.get('sig') ?? '';
    const exp = job?.links.get(sig);
    const body = job?.parts?.[part - 1];
    if (!job || !body || exp === undefined || url.searchParams.get('exp') !== String(exp)) {
      throw this.ctx.httpError(403, 'Signature does not match');
    }
    if (exp <= this.ctx.now()) throw this.ctx.httpError(403, 'Request has expired');
    const knobs = this.knobs.get(job.crmInstance);
    const truncate = (knobs?.truncateDownloads ?? 0) > 0;
    const headers = { 'content-type': 'text/csv; charset=utf-8', 'content-length': body.length };
    if (!truncate) {
      send(head, res, 200, headers, body);
      return;
    }
    if (knobs) knobs.truncateDownloads = (knobs.truncateDownloads ?? 0) - 1;
    head(200, headers);
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
  }

  /** The rows of the job's range spread over `partsPerJob` CSVs (fewer when there are fewer rows; none when empty). */
  private partsOf(job: CrmJob): Buffer[] {
    const rows = this.rows(job.crmInstance, job.exportStartAt, job.exportEndAt);
    if (rows.length === 0) return [];
    const count = Math.min(this.opts.partsPerJob, rows.length);
    const size = Math.ceil(rows.length / count);
    return Array.from({ length: count }, (_, i) =>
      Buffer.from(`${[CRM_CSV_HEADER, ...rows.slice(i * size, (i + 1) * size)].join('\r\n')}\r\n`),
    );
  }

  private instanceOf(url: URL, mustBeServed = true): string {
    const raw = url.searchParams.get('crmInstanceId');
    if (!raw) throw this.ctx.httpError(400, 'query.crmInstanceId: is required');
    if (!CrmInstanceUrnSchema.safeParse(raw).success) {
      throw this.ctx.httpError(
        400,
        'query.crmInstanceId: must be urn:li:crmInstance:(CRM_KEY,VALUE), URL-encoded',
      );
    }
    if (mustBeServed && !this.opts.instances.includes(raw)) {
      throw this.ctx.httpError(403, `Not enough permissions to export data of ${raw}`);
    }
    return raw;
  }

  private faults(crmInstance: string): void {
    const knobs = this.knobs.get(crmInstance);
    if (!knobs) return;
    if (knobs.unauthorized) throw this.ctx.expiredToken();
    if (knobs.throttle && knobs.throttle.times > 0) {
      knobs.throttle.times--;
      throw this.ctx.httpError(429, 'Resource level throttle limit reached', {
        'retry-after': String(knobs.throttle.retryAfterSeconds),
      });
    }
    if (knobs.serverError && knobs.serverError.times > 0) {
      knobs.serverError.times--;
      throw this.ctx.httpError(knobs.serverError.status, 'Simulated server error');
    }
  }

  private allow(req: IncomingMessage, method: string): void {
    if (req.method !== method) {
      throw this.ctx.httpError(405, `${req.method} is not allowed here`, { allow: method });
    }
  }
}
