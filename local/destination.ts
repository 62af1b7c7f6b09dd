// The destination of a local run (folder or S3), checked before any LinkedIn call, with its lock.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, parseS3Url, S3ObjectStore } from '#storage/s3-store';
import type { ObjectStore } from '#storage/store';
import { describeAwsError } from './aws-errors.ts';
import { FolderStore } from './folder-store.ts';
import { LOCK_KEY, type LockBackend } from './lock.ts';

/** A destination the user cannot use as given: the message says why and what to do (exit 2). */
export class DestinationError extends Error {
  override name = 'ConfigurationError';
}

export interface Destination {
  store: ObjectStore;
  lock: LockBackend;
  /** Removes temp files killed runs left behind (folders only); call while holding the lock. */
  removeStaleTemps(): Promise<number>;
}

/**
 * Opens `--dest` and checks it can be written, before anything else happens: a folder is created
 * if missing and must be a writable directory; for S3 a region and credentials must be configured
 * and the bucket reachable. Throws DestinationError naming the problem and the fix.
 */
export async function openDestination(
  dest: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Destination> {
  return dest.startsWith('s3://') ? openS3(dest, env) : openFolder(dest);
}

async function openFolder(dest: string): Promise<Destination> {
  const root = resolve(dest);
  const fail = (problem: string): never => {
    throw new DestinationError(`--dest ${dest}: ${problem}`);
  };
  const existing = await stat(root).catch(() => undefined);
  if (existing && !existing.isDirectory())
    fail('is a file, not a folder: choose a folder (it is created if missing)');
  try {
    await makeFolder(root);
  } catch (err) {
    fail(`cannot create the folder (${codeOf(err)}): choose a folder you can write to`);
  }
  const store = new FolderStore(root);
  const path = join(root, LOCK_KEY);
  const lock: LockBackend = {
    location: path,
    async createExclusive(body) {
      try {
        await writeFile(path, body, { flag: 'wx' });
        return true;
      } catch (err) {
        if (codeOf(err) === 'EEXIST') return false;
        return fail(`cannot write into the folder (${codeOf(err)}): choose a folder you can write to`);
      }
    },
    read: () => readFile(path, 'utf8').catch(() => undefined),
    remove: () => rm(path, { force: true }),
  };
  return { store, lock, removeStaleTemps: () => store.removeStaleTemps() };
}

async function openS3(dest: string, env: NodeJS.ProcessEnv): Promise<Destination> {
  let parsed: { bucket: string; prefix: string };
  try {
    parsed = parseS3Url(dest);
  } catch (err) {
    throw new DestinationError(`--dest: ${(err as Error).message}`);
  }
  const { bucket, prefix } = parsed;
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL_S3;
  const client = createS3Client(endpoint ? { endpoint } : {});
  const target = { service: 'S3', resource: dest, ...(endpoint && { endpoint }) };
  const translate = (err: unknown): never => {
    const message = describeAwsError(err, target);
    if (message) throw new DestinationError(`--dest ${dest}: ${message}`);
    throw err;
  };
  // Region and credentials are resolved lazily by the SDK: ask for them now, not mid-run.
  await client.config.region().catch(translate);
  await client.config.credentials().catch(translate);
  const key = prefix ? `${prefix}/${LOCK_KEY}` : LOCK_KEY;
  const lock = s3Lock(client, bucket, key, `s3://${bucket}/${key}`, translate);
  await lock.read(); // reachability, bucket and permission check (a missing lock is fine)
  return {
    // Item leases need conditional writes; a custom endpoint may ignore them (s3rver does), so only
    // AWS S3 gets leases (the destination lock still keeps two CLI runs apart). Such an endpoint may
    // ignore x-amz-tagging too: its objects are tagged once whole.
    store: new S3ObjectStore({
      client,
      bucket,
      prefix,
      conditionalWrites: !endpoint,
      tagsOnCreate: !endpoint,
    }),
    lock,
    removeStaleTemps: async () => 0, // an S3 object appears only when whole: nothing to remove
  };
}

function s3Lock(
  client: S3Client,
  bucket: string,
  key: string,
  location: string,
  translate: (err: unknown) => never,
): LockBackend {
  return {
    location,
    async createExclusive(body) {
      // Read first too: some S3-compatible servers (s3rver) ignore If-None-Match.
      if ((await this.read()) !== undefined) return false;
      try {
        // If-None-Match makes the create atomic on S3 (412 when the lock exists).
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
        return true;
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 412 || status === 409) return false;
        return translate(err);
      }
    },
    async read() {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await res.Body?.transformToString('utf8');
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket')) {
          return undefined;
        }
        return translate(err);
      }
    },
    async remove() {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(translate);
    },
  };
}

/**
 * `mkdir -p`, one level at a time: Node's `mkdir(…, { recursive: true })` never returns for some
 * paths (e.g. under /proc, where creating a directory answers ENOENT), and the CLI must not hang.
 */
async function makeFolder(path: string): Promise<void> {
  const missing: string[] = [];
  let existing = path;
  while (!(await stat(existing).catch(() => undefined))) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const dir of missing) {
    // rwx------: the destination holds member data (the user can widen it; we never do).
    await mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
      if (codeOf(err) !== 'EEXIST') throw err;
    });
  }
  const made = await stat(path);
  if (!made.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
}

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
