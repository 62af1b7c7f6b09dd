// Runtime settings of the steps (API base URL, polling, download hosts, bounds), validated with zod.
import * as z from 'zod';
import { CrmInstanceUrnSchema } from './crm.ts';
import { ConfigurationError } from './errors.ts';

/**
 * Runtime settings shared by every handler. In AWS they arrive as one JSON environment variable
 * (`EXPORT_SETTINGS`) written by the stack from the deploy-time config; locally the runner builds
 * them directly. Every field has a production default.
 */
/** The CRM data validation family's settings (`settings.crm`). */
export const CrmSettingsSchema = z
  .object({
    /** CRM instances exported by every run, `urn:li:crmInstance:(<CRM_KEY>,<instance id>)`; none = off. */
    instances: z.array(CrmInstanceUrnSchema).max(100).default([]),
    /** The first export of an instance (no cursor yet) starts this many days before the run. */
    firstExportDays: z.number().int().min(1).max(365).default(30),
    /**
     * Polling a CRM job, which LinkedIn says "could take up to two hours": the first read after
     * `initialSeconds`, then ×`factor` up to `maxSeconds` (5, 7.5, 11, 17, 25, 30, 30 … minutes: six
     * reads in the first two hours), giving up `deadlineSeconds` after creation.
     */
    poll: z
      .object({
        initialSeconds: z.number().int().min(1).default(300),
        factor: z.number().min(1).max(10).default(1.5),
        maxSeconds: z.number().int().min(1).default(1800),
        deadlineSeconds: z
          .number()
          .int()
          .min(60)
          .default(6 * 3600),
      })
      .strict()
      .prefault({}),
    /** New jobs after FAILED_DUE_TO_INTERNAL_ERROR (same start: the cursor has not moved), with backoff. */
    jobRetry: z
      .object({
        baseSeconds: z.number().int().min(1).default(600),
        maxSeconds: z.number().int().min(1).default(3600),
        maxRetries: z.number().int().min(0).max(10).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** LinkedIn fails an export over 3 GB (FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR); 10 % margin on top. */
export const MAX_DOWNLOAD_BYTES = Math.round(3 * 10 ** 9 * 1.1);

/** LinkedIn's download hosts: always allowed, unless `replaceDownloadHosts` says otherwise. */
export const LINKEDIN_DOWNLOAD_HOSTS = ['*.licdn.com', '*.linkedin.com'] as const;

/** A download host pattern, parsed: `host` (lower case, IPv6 without brackets), `*.` wildcard, port. */
export interface HostPattern {
  host: string;
  wildcard: boolean;
  /** Only this port (`*`: any port); undefined = the scheme's default port only. */
  port?: string;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(
  `^(?:(\\*\\.)?(${LABEL}(?:\\.${LABEL})*)|\\[([0-9a-f:.]+)\\])(?::(\\d{1,5}|\\*))?$`,
);

/**
 * Parses `example.com`, `dl.example.com:8443`, `*.example.com` (subdomains only: at least two labels
 * after `*.`, so `*` and `*.com` are refused), `127.0.0.1:9000`, `[::1]:9000`, `127.0.0.1:*` (any port,
 * named explicitly); undefined otherwise.
 */
export function parseHostPattern(text: string): HostPattern | undefined {
  const m = HOST_PATTERN.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const [, star, name, v6, port] = m;
  if (star && (name?.split('.').length ?? 0) < 2) return undefined;
  if (port !== undefined && port !== '*' && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  return { host: (name ?? v6) as string, wildcard: Boolean(star), ...(port !== undefined && { port }) };
}

/** Whether `hostname` is a loopback IP literal (127.0.0.0/8, ::1): the only hosts allowed over http. */
export function isLoopbackIp(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return /^127(?:\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** https, or http to a loopback IP literal (the local emulator): a bearer token never travels in cleartext. */
export function isSecureApiUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackIp(u.hostname));
}

const HostPatternSchema = z
  .string()
  .trim()
  .refine(
    (p) => parseHostPattern(p) !== undefined,
    'must be a host name (`dl.example.com`), a subdomain wildcard with at least two labels (`*.example.com`, not `*` or `*.com`), or an IP literal, with an optional `:port`',
  );

export const SettingsSchema = z
  .object({
    /** LinkedIn REST base URL: https (http only to a loopback IP literal, i.e. the local emulator). */
    apiBaseUrl: z
      .url()
      .refine(isSecureApiUrl, 'must be https (http is allowed only to a loopback IP such as 127.0.0.1)')
      .default('https://api.linkedin.com/v2'),
    /**
     * Hosts a download URL may point at, in addition to LinkedIn's own (`*.licdn.com`,
     * `*.linkedin.com`) unless `replaceDownloadHosts` is true. `*.example.com` matches subdomains
     * only; a pattern without a port matches the scheme's default port only. Every download is https
     * except to a loopback IP literal (the local emulator).
     */
    allowedDownloadHosts: z.array(HostPatternSchema).default([...LINKEDIN_DOWNLOAD_HOSTS]),
    /** true: `allowedDownloadHosts` is the whole list, LinkedIn's own hosts are not added. */
    replaceDownloadHosts: z.boolean().default(false),
    /** Default window = the last complete UTC day, moved back by this many days. */
    lagDays: z.number().int().min(0).max(30).default(1),
    /**
     * The scheduled run (`{}`) covers this many complete days before the lag, and exports only the
     * days no object holds yet: yesterday, plus any hole of the look-back (a missed or failed run).
     * Costs one S3 listing per lane and one metadata read per object overlapping the look-back.
     */
    lookBackDays: z.number().int().min(1).max(90).default(7),
    /**
     * Upper bound on items (contract × dataset × 90-day window) of a backfill run (several windows per
     * lane): PlanRun checks every item's object and FinishRun reads every record within their 5-minute
     * Lambda timeouts. A larger backfill is split by dates into several runs (the CLI does it). A
     * one-window run (the daily schedule) is never refused, whatever the number of contracts.
     */
    maxItemsPerRun: z.number().int().min(1).max(50_000).default(20_000),
    poll: z
      .object({
        initialSeconds: z.number().int().min(1).default(30),
        factor: z.number().min(1).max(10).default(2),
        maxSeconds: z.number().int().min(1).default(900),
        /**
         * A finished job is noticed at most max(latencyFloorSeconds, latencyFraction × its age) after
         * it completes: no wait between two polls is longer than that, whatever the backoff says.
         */
        latencyFloorSeconds: z.number().int().min(1).default(60),
        latencyFraction: z.number().gt(0).max(1).default(0.1),
        /** Give up on a job still ENQUEUED/PROCESSING this long after it was created. */
        deadlineSeconds: z
          .number()
          .int()
          .min(60)
          .default(6 * 3600),
      })
      .prefault({}),
    dataDelay: z
      .object({
        /** Wait before creating a new job after FAILED_DUE_TO_DATA_DELAY (LinkedIn refreshes daily). */
        waitSeconds: z
          .number()
          .int()
          .min(1)
          .default(4 * 3600),
        /** New jobs after a data delay before the item is FAILED. */
        maxRetries: z.number().int().min(0).max(20).default(6),
      })
      .prefault({}),
    jobRetry: z
      .object({
        /** First wait before re-creating a job that ended FAILED_DUE_TO_TIMED_OUT / INTERNAL_ERROR. */
        baseSeconds: z.number().int().min(1).default(300),
        maxSeconds: z.number().int().min(1).default(3600),
        maxRetries: z.number().int().min(0).max(10).default(3),
      })
      .prefault({}),
    /** How often a window may be halved after FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR (90 days → 1 day is 7). */
    maxSplitDepth: z.number().int().min(0).max(7).default(7),
    /**
     * A download that delivers no byte for this long is abandoned as incomplete (and retried), instead
     * of hanging until the Lambda times out.
     */
    downloadIdleTimeoutMs: z.number().int().min(100).max(600_000).default(60_000),
    /**
     * The most a download may hold: LinkedIn fails an export over 3 GB, so 3.3 GB (+10 %) by default;
     * beyond it the copy is aborted and nothing reaches the final key. May be lowered, not raised.
     */
    maxDownloadBytes: z.number().int().min(1).max(MAX_DOWNLOAD_BYTES).default(MAX_DOWNLOAD_BYTES),
    /** Longest `Retry-After` the client waits in-process before handing a 429 to the state machine. */
    maxInProcessRetryAfterSeconds: z.number().int().min(0).max(300).default(20),
    /**
     * CRM data validation exports (stale CRM contacts, `/crmDataValidationExportJobs`). Off unless
     * `instances` names at least one CRM instance: with none, no run plans, calls or writes anything of it.
     */
    crm: CrmSettingsSchema.prefault({}),
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;

export function parseSettings(value: unknown, source = 'settings'): Settings {
  const parsed = SettingsSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new ConfigurationError(`${source}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Reads `EXPORT_SETTINGS` (JSON) from the environment. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const raw = env.EXPORT_SETTINGS;
  if (!raw) return parseSettings({}, 'EXPORT_SETTINGS');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigurationError('EXPORT_SETTINGS is not valid JSON');
  }
  return parseSettings(json, 'EXPORT_SETTINGS');
}

/** The hosts a download may use: LinkedIn's own plus the configured ones, or only those when replacing. */
export function downloadHostsOf(
  settings: Pick<Settings, 'allowedDownloadHosts' | 'replaceDownloadHosts'>,
): string[] {
  const configured = settings.allowedDownloadHosts;
  return settings.replaceDownloadHosts
    ? [...configured]
    : [...new Set([...LINKEDIN_DOWNLOAD_HOSTS, ...configured])];
}
