import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no type declarations; `S3rverServer` below types what is used.
import S3rverModule from 's3rver';
import { createS3Client } from '#storage/s3-store';

/** The part of s3rver's API the tests use. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}

interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}

const S3rver = S3rverModule as new (options: S3rverOptions) => S3rverServer;

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The bucket created at start. */
  readonly bucket: string;
  /** A client for `endpoint` (path-style, checksums only when required, s3rver's fixed credentials). */
  readonly client: S3Client;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/**
 * A real S3 endpoint for tests: s3rver on 127.0.0.1 (free port), storing in a fresh temp directory,
 * with `bucket` created before it answers.
 */
export async function startS3rver(opts: { bucket?: string } = {}): Promise<LocalS3> {
  const bucket = opts.bucket ?? 'exports';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    bucket,
    client,
    async close() {
      client.destroy();
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
