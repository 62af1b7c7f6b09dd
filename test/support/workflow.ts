import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach } from 'vitest';
import { dayToMs } from '#common/days';
import { type Dataset, type ExportItem, type ItemRecord, ItemRecordSchema } from '#common/model';
import { parseSettings, type Settings, type SettingsInput } from '#common/settings';
import { localDeps } from '#local/deps';
import { type Emulator, type EmulatorOptions, startEmulator } from '#local/emulator/server';
import { type LocalRunResult, type ProgressEvent, runExportLocally } from '#local/executor';
import { FolderStore } from '#local/folder-store';
import type { Deps } from '#steps/deps';
import type { Manifest } from '#steps/finish';
import { manifestKey } from '#storage/keys';
import { S3ObjectStore } from '#storage/s3-store';
import type { ObjectStore } from '#storage/store';
import { startS3rver } from './s3rver.ts';

/**
 * Shared setup of the workflow tests: the real state-machine definitions run by the local executor
 * against a fresh LinkedIn emulator, into a temp folder or a real S3 endpoint (s3rver).
 */

/** The emulator's default contracts, in LinkedIn's documented URN form (`urn:li:contract:<id>`). */
export const CONTRACT_A = 'urn:li:contract:1001';
export const CONTRACT_B = 'urn:li:contract:1002';
/** The emulator's contract without reporting access: never exported. */
export const CONTRACT_NO_ACCESS = 'urn:li:contract:1003';
export const REPORTABLE = [CONTRACT_A, CONTRACT_B] as const;

/** The default window of the tests: three complete UTC days in the past. */
export const FROM = '2026-10-01';
export const TO = '2026-10-04';

export type DestinationKind = 'folder' | 's3';
export const DESTINATIONS: readonly DestinationKind[] = ['folder', 's3'];

export interface Destination {
  readonly kind: DestinationKind;
  readonly store: ObjectStore;
  /** The stored bytes at `key`, or undefined when there is no object. */
  read(key: string): Promise<Buffer | undefined>;
  /** S3 user metadata of the object at `key`; a folder keeps none (undefined). */
  metadata(key: string): Promise<Record<string, string> | undefined>;
  /** Every file or object under the root, temp files included (a folder's `*.partial`). */
  allKeys(): Promise<string[]>;
  close(): Promise<void>;
}

/** Settings of every workflow test: the emulator, its loopback media host, and short waits. */
export function testSettings(apiBaseUrl: string, overrides: Partial<SettingsInput> = {}): Settings {
  return parseSettings({
    apiBaseUrl,
    allowedDownloadHosts: ['*.licdn.com', '*.linkedin.com', '127.0.0.1:*'],
    poll: { initialSeconds: 1, maxSeconds: 5 },
    dataDelay: { waitSeconds: 10, maxRetries: 2 },
    jobRetry: { baseSeconds: 5, maxRetries: 2 },
    ...overrides,
  });
}

export async function openDestination(kind: DestinationKind): Promise<Destination> {
  if (kind === 'folder') {
    const dir = await mkdtemp(join(tmpdir(), 'workflow-folder-'));
    return {
      kind,
      store: new FolderStore(dir),
      read: (key) => readFile(join(dir, key)).catch(() => undefined),
      metadata: async () => undefined,
      allKeys: async () =>
        (await readdir(dir, { recursive: true, withFileTypes: true }))
          // Metadata sidecars are not objects (temp files are listed: a test must see none is left).
          .filter((entry) => entry.isFile() && !/^\..*\.metadata\.json$/.test(entry.name))
          .map((entry) =>
            join(entry.parentPath, entry.name)
              .slice(dir.length + 1)
              .split('\\')
              .join('/'),
          )
          .sort(),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const s3 = await startS3rver();
  const prefix = 'salesnav/daily';
  const location = (key: string) => ({ Bucket: s3.bucket, Key: `${prefix}/${key}` });
  // s3rver ignores x-amz-tagging: its objects are tagged once whole, as the CLI does for a custom endpoint.
  const store = new S3ObjectStore({ client: s3.client, bucket: s3.bucket, prefix, tagsOnCreate: false });
  return {
    kind,
    store,
    read: async (key) => {
      try {
        const object = await s3.client.send(new GetObjectCommand(location(key)));
        return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    metadata: async (key) => (await s3.client.send(new HeadObjectCommand(location(key)))).Metadata,
    allKeys: () => store.list(''),
    close: () => s3.close(),
  };
}

export interface WorkflowEnvOptions {
  /** A kind opens a fresh destination; an open one is shared (e.g. with an earlier environment). */
  destination?: DestinationKind | Destination;
  /** Over fast defaults: jobs ENQUEUED 20 ms then PROCESSING 30 ms, 4 rows per day. */
  emulator?: EmulatorOptions;
  settings?: Partial<SettingsInput>;
  /** Wait states and Retry intervals are multiplied by this. @default 0.01 */
  timeScale?: number;
  /** The pipeline's clock (job ages, polling deadlines). @default the wall clock */
  now?: () => Date;
  /** Lanes exported at once. @default the executor's (the stack's default) */
  mapConcurrency?: number;
}

export interface RunOutcome {
  result: LocalRunResult;
  /** `manifests/<runId>.json`, when FinishRun wrote one. */
  manifest?: Manifest;
  events: ProgressEvent[];
}

export interface WorkflowEnv {
  readonly emulator: Emulator;
  readonly destination: Destination;
  readonly settings: Settings;
  readonly deps: Deps;
  /** One ExportRun execution named `runId`; `onProgress` sees every event as it happens. */
  run(input: unknown, runId: string, onProgress?: (event: ProgressEvent) => void): Promise<RunOutcome>;
  /** The exact bytes the emulator serves for `item`'s window. */
  expectedCsv(item: ExportItem): Buffer;
  close(): Promise<void>;
}

export async function startWorkflowEnv(options: WorkflowEnvOptions = {}): Promise<WorkflowEnv> {
  const emulator = await startEmulator({
    rowsPerDay: 4,
    ...options.emulator,
    jobTimings: { queuedMs: 20, processingMs: 30, ...options.emulator?.jobTimings },
  });
  let destination: Destination;
  try {
    destination =
      typeof options.destination === 'object'
        ? options.destination
        : await openDestination(options.destination ?? 'folder');
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const settings = testSettings(emulator.url, options.settings);
  const deps = localDeps({
    settings,
    token: emulator.token,
    store: destination.store,
    ...(options.now && { now: options.now }),
  });
  return {
    emulator,
    destination,
    settings,
    deps,
    async run(input, runId, onProgress) {
      const events: ProgressEvent[] = [];
      const result = await runExportLocally(input, {
        deps,
        runId,
        timeScale: options.timeScale ?? 0.01,
        ...(options.mapConcurrency !== undefined && { mapConcurrency: options.mapConcurrency }),
        onProgress: (event) => {
          events.push(event);
          onProgress?.(event);
        },
      });
      return { result, manifest: await readManifest(destination.store, runId), events };
    },
    expectedCsv: (item) =>
      emulator.expectedCsv(item.contract, item.dataset, dayToMs(item.start), dayToMs(item.end)),
    async close() {
      await Promise.allSettled([emulator.close(), destination.close()]);
    },
  };
}

/**
 * `startWorkflowEnv` for one test file: every environment it starts is closed after its test.
 * Call at module or `describe` level.
 */
export function workflowEnvs(): (options?: WorkflowEnvOptions) => Promise<WorkflowEnv> {
  const open: WorkflowEnv[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((env) => env.close()));
  });
  return async (options) => {
    const env = await startWorkflowEnv(options);
    open.push(env);
    return env;
  };
}

/** The run manifest, its items checked against the public ItemRecord schema. */
export async function readManifest(store: ObjectStore, runId: string): Promise<Manifest | undefined> {
  const manifest = (await store.getJson(manifestKey(runId))) as Manifest | undefined;
  if (manifest) ItemRecordSchema.array().parse(manifest.items);
  return manifest;
}

export function item(contract: string, dataset: Dataset, start = FROM, end = TO): ExportItem {
  return { contract, dataset, start, end };
}

/** The manifest record of exactly `it`'s window (fails the test when there is none or several). */
export function recordOf(manifest: Manifest | undefined, it: ExportItem): ItemRecord {
  const found = (manifest?.items ?? []).filter(
    (r) =>
      r.contract === it.contract &&
      r.dataset === it.dataset &&
      r.window.start === it.start &&
      r.window.end === it.end,
  );
  if (found.length !== 1) {
    throw new Error(`expected one manifest record for ${JSON.stringify(it)}, found ${found.length}`);
  }
  return found[0] as ItemRecord;
}

/** Jobs the emulator created for one lane. */
export function laneJobs(emulator: Emulator, contract: string, dataset: Dataset) {
  return emulator.jobs().filter((j) => j.contract === contract && j.dataset === dataset);
}
