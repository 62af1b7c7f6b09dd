// One export at a time per destination: a lock file (folder) or lock object (S3) naming its holder.
import { hostname } from 'node:os';
import * as z from 'zod';

/** Key of the lock at the destination root (hidden: never listed as an object). */
export const LOCK_KEY = '.salesnav-export.lock';
/** A lock older than this is taken to be left behind by a run on another machine that died. */
const MAX_LOCK_AGE_MS = 24 * 3600 * 1000;

export const LockInfoSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  runId: z.string(),
  startedAt: z.string(),
});
export type LockInfo = z.infer<typeof LockInfoSchema>;

/** Where a lock lives: create-if-absent, read, remove. */
export interface LockBackend {
  /** e.g. `/home/me/exports/.salesnav-export.lock` */
  readonly location: string;
  /** Writes `body` only if there is no lock yet; false when one exists. */
  createExclusive(body: string): Promise<boolean>;
  /** The lock's text, or undefined when there is none. */
  read(): Promise<string | undefined>;
  remove(): Promise<void>;
}

/** Another run holds the destination. */
export class DestinationLockedError extends Error {
  constructor(
    readonly holder: LockInfo | undefined,
    readonly location: string,
  ) {
    super(
      holder
        ? `another export is writing to this destination: run ${holder.runId}, pid ${holder.pid} on ${holder.host}, ` +
            `since ${holder.startedAt}. Wait for it to finish, or, if that run is gone, delete ${location}`
        : `another export holds ${location} (unreadable lock); if no export is running, delete it`,
    );
    this.name = 'DestinationLockedError';
  }
}

export interface HeldLock {
  info: LockInfo;
  /** Set when a stale lock (its holder gone) was taken over. */
  replaced?: LockInfo;
  release(): Promise<void>;
}

/**
 * Takes the destination's lock for `runId`, or throws DestinationLockedError naming the holder. A
 * lock whose holder is gone (same host and its pid no longer runs, or older than 24 h) is stale: it
 * is replaced, and `replaced` says whose it was.
 */
export async function acquireLock(
  backend: LockBackend,
  runId: string,
  now: () => Date = () => new Date(),
): Promise<HeldLock> {
  const info: LockInfo = { pid: process.pid, host: hostname(), runId, startedAt: now().toISOString() };
  const body = JSON.stringify(info, null, 2);
  let replaced: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await backend.createExclusive(body)) {
      let released = false;
      return {
        info,
        ...(replaced && { replaced }),
        release: async () => {
          if (released) return;
          released = true;
          // Only our own lock is removed (a stale-lock takeover by someone else is theirs).
          const current = parseLock(await backend.read());
          if (current?.runId === runId) await backend.remove();
        },
      };
    }
    const text = await backend.read();
    if (text === undefined) continue; // released between our two calls: try again
    const holder = parseLock(text);
    if (!holder || !isStale(holder, now())) throw new DestinationLockedError(holder, backend.location);
    replaced = holder;
    await backend.remove();
  }
  throw new DestinationLockedError(undefined, backend.location);
}

function parseLock(text: string | undefined): LockInfo | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = LockInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function isStale(holder: LockInfo, now: Date): boolean {
  const age = now.getTime() - Date.parse(holder.startedAt);
  if (!(age < MAX_LOCK_AGE_MS)) return true;
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
