// Item leases: one object per item (contract × dataset × window) so two runs never export the same item at once.
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { AwsTransientError } from '#common/errors';
import type { ExportItem } from '#common/model';
import { leaseKey } from './keys.ts';
import type { ObjectStore } from './store.ts';

/**
 * How long a lease holds: one item's whole budget, ExportJob's `TimeoutSeconds` (EXPORT_JOB_TIMEOUT in
 * lib/workflow.ts, 7 days; a template test pins them equal). No ExportJob execution can work on its
 * item longer (Step Functions ends it TIMED_OUT), so a lease past it belongs to a dead execution and
 * is taken over; any shorter expiry would let a second run take the item from a live one (an item may
 * legitimately wait days on data-delay retries).
 */
export const LEASE_SECONDS = 7 * 24 * 60 * 60;

/** The lease object's body. Public (operators may read or delete it): fields are only added. */
export const LeaseSchema = z.object({
  runId: z.string().min(1),
  executionArn: z.string().optional(),
  acquiredAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export type Lease = z.infer<typeof LeaseSchema>;

export type LeaseOutcome =
  /** Ours: newly created, already ours (a retried step), or taken over (from an expired lease, or one of a run that ended). */
  | {
      ours: true;
      lease: Lease;
      etag: string;
      tookOverFrom?: Lease;
      tookOverBecause?: 'expired' | 'holderEnded';
    }
  /** Another run holds it and it has not expired: the item is not exported by this run. */
  | { ours: false; heldBy: Lease };

/** Rounds of create / read / take over before giving up (each lost only to another writer's race). */
const ROUNDS = 4;
/** Attempts of one conditional request meeting 409 ConditionalRequestConflict (S3 says: retry). */
const CONFLICT_ATTEMPTS = 3;

export interface LeaseRequest {
  runId: string;
  executionArn?: string;
  now: Date;
  /** Seconds the lease holds; LEASE_SECONDS unless a test says otherwise. */
  seconds?: number;
  /**
   * Whether the run holding an unexpired lease has ended (stopped by hand, failed or timed out before
   * FinishRun released its leases): such a lease is taken over like an expired one. Absent, or
   * false (not known), the lease holds until it expires.
   */
  holderEnded?: (holder: Lease) => Promise<boolean>;
}

/**
 * Takes the item's lease for `runId`. Created with `If-None-Match: *`; when it exists: ours (same run
 * id) is kept as it is; an expired one, or one whose run has ended (`holderEnded`), is replaced with
 * `If-Match: <its ETag>`, so of two runs taking it over at once only one wins (the other gets 412 and
 * then sees the winner's lease: held); any other is held by another run. `undefined` for a store without conditional writes (no lease is taken).
 */
export async function acquireLease(
  store: ObjectStore,
  item: ExportItem,
  request: LeaseRequest,
): Promise<LeaseOutcome | undefined> {
  const cas = store.conditional;
  if (!cas) return undefined;
  const key = leaseKey(item);
  const lease: Lease = {
    runId: request.runId,
    ...(request.executionArn && { executionArn: request.executionArn }),
    acquiredAt: request.now.toISOString(),
    expiresAt: new Date(request.now.getTime() + (request.seconds ?? LEASE_SECONDS) * 1000).toISOString(),
  };
  for (let round = 0; round < ROUNDS; round++) {
    const created = await retryConflict(() => cas.createJson(key, lease));
    if (created) return { ours: true, lease, etag: created.etag };
    const current = await retryConflict(() => cas.getJsonVersion(key));
    if (!current) continue; // released between our write and our read: create it again
    const found = parseLease(current.value, key);
    if (found.runId === request.runId) return { ours: true, lease: found, etag: current.etag };
    const expired = Date.parse(found.expiresAt) <= request.now.getTime();
    if (!expired && !(await request.holderEnded?.(found))) return { ours: false, heldBy: found };
    const replaced = await retryConflict(() => cas.replaceJson(key, lease, current.etag));
    if (replaced) {
      return {
        ours: true,
        lease,
        etag: replaced.etag,
        tookOverFrom: found,
        tookOverBecause: expired ? 'expired' : 'holderEnded',
      };
    }
    // 412: another run replaced (or released) it first; the next round reads what it wrote.
  }
  throw new AwsTransientError(
    `the lease ${key} changed hands ${ROUNDS} times while run ${request.runId} tried to take it; retried by the workflow`,
  );
}

/**
 * Releases the item's lease if `runId` holds it (conditional delete on the ETag read, so a lease
 * another run took over meanwhile stays). Returns whether a lease of ours was removed.
 */
export async function releaseLease(store: ObjectStore, item: ExportItem, runId: string): Promise<boolean> {
  const cas = store.conditional;
  if (!cas) return false;
  const key = leaseKey(item);
  const current = await retryConflict(() => cas.getJsonVersion(key));
  if (!current) return false;
  const found = LeaseSchema.safeParse(current.value);
  if (!found.success || found.data.runId !== runId) return false;
  return retryConflict(() => cas.removeIfMatch(key, current.etag));
}

function parseLease(value: unknown, key: string): Lease {
  const parsed = LeaseSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Not a lease we can read (hand-edited?): treated as expired, so it is replaced rather than blocking forever.
  return {
    runId: `unreadable lease at ${key}`,
    acquiredAt: new Date(0).toISOString(),
    expiresAt: new Date(0).toISOString(),
  };
}

async function retryConflict<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (attempt >= CONFLICT_ATTEMPTS || !isConflict(err)) throw err;
      await sleep(50 * attempt + Math.random() * 100);
    }
  }
}

/** 409 ConditionalRequestConflict (mapped to AwsTransientError by the S3 store). */
function isConflict(err: unknown): boolean {
  const cause = err instanceof AwsTransientError ? err.cause : err;
  return (
    typeof cause === 'object' &&
    cause !== null &&
    ((cause as { name?: string }).name === 'ConditionalRequestConflict' ||
      (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 409)
  );
}
