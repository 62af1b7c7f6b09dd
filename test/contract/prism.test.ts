/**
 * Contract check: the pipeline's real LinkedIn client talks to the emulator through a Prism
 * validation proxy built from the seed spec. With `--errors`, Prism answers with an error whenever
 * a request or a response violates the spec, so a clean run proves both sides match it.
 *
 * Where the emulator answers in LinkedIn's documented form rather than the seed spec's examples,
 * the spec still validates it, and the tests below say so explicitly: contract URNs are
 * `urn:li:contract:<id>` (the spec types `contract` as a plain string; only its examples use
 * `urn:li:salesContract:`), and error bodies are `{message, serviceErrorCode, status}` (the spec's
 * ErrorResponse declares `status`, `message` and an optional `code`, and allows more properties).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkedInRequestError } from '#common/errors';
import { DATASETS } from '#common/model';
import { LinkedInClient } from '#linkedin/client';
import { DAY_MS } from '#local/emulator/csv';
import { DEFAULT_CONTRACTS, type Emulator, startEmulator } from '#local/emulator/server';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const SPEC = repo('spec/linkedin-sales-navigator.openapi.yml');
const PRISM = repo('node_modules/.bin/prism');
/** LinkedIn's documented URN form, the emulator's default. */
const CONTRACT = 'urn:li:contract:1001';
const TIMINGS = { queuedMs: 1000, processingMs: 1000 };
const START = Date.UTC(2024, 4, 1);

let now = Date.UTC(2024, 5, 1);
let emulator: Emulator;
let prism: ChildProcess | undefined;
let prismUrl: string;
let client: LinkedInClient;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `prism proxy` and resolves once it listens; rejects with its output if it exits first. */
async function startPrism(upstream: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    PRISM,
    ['proxy', SPEC, upstream, '--errors', '--port', String(port), '--host', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Prism is listening on')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`prism exited (${code}) before listening:\n${output}`)));
  });
  return child;
}

beforeAll(async () => {
  // Prism forwards `<path>` to `<upstream><path>`: the spec's paths are relative to the server
  // URL (`…/v2`), so the emulator's API base URL is the upstream and the client talks to Prism's root.
  emulator = await startEmulator({ now: () => now, jobTimings: TIMINGS });
  const port = await freePort();
  prism = await startPrism(emulator.url, port);
  prismUrl = `http://127.0.0.1:${port}`;
  client = new LinkedInClient({ baseUrl: prismUrl, getToken: async () => emulator.token, pageSize: 2 });
}, 60_000);

afterAll(async () => {
  if (prism && prism.exitCode === null) {
    const exited = once(prism, 'exit');
    prism.kill('SIGTERM');
    await exited;
  }
  await emulator?.close();
}, 30_000);

describe('LinkedInClient ↔ emulator through Prism (seed spec, --errors)', () => {
  it('lists every contract across pages', async () => {
    const before = emulator.requests.length;
    const contracts = await client.listContracts();
    expect(contracts).toEqual(DEFAULT_CONTRACTS);
    // Documented form, not the seed spec's example form, and Prism lets it through.
    expect(contracts.map((c) => c.contract)).toEqual([
      'urn:li:contract:1001',
      'urn:li:contract:1002',
      'urn:li:contract:1003',
    ]);
    expect(emulator.requests.slice(before)).toEqual([
      { method: 'GET', path: '/v2/salesContracts', status: 200, at: expect.any(Number) },
      { method: 'GET', path: '/v2/salesContracts', status: 200, at: expect.any(Number) },
    ]);
  });

  it.each(DATASETS)('%s: creates a job and polls it until COMPLETED', async (dataset) => {
    const end = START + 3 * DAY_MS;
    const created = await client.createExportJob(dataset, CONTRACT, START, end);
    expect(created.status).toBe('ENQUEUED');

    const seen: string[] = [];
    let job = await client.getExportJob(created.id, CONTRACT);
    for (let polls = 0; ; polls++) {
      seen.push(job.status);
      if (job.status === 'COMPLETED' || polls === 5) break;
      now += 1000;
      job = await client.getExportJob(created.id, CONTRACT);
    }
    expect(seen).toEqual(['ENQUEUED', 'PROCESSING', 'COMPLETED']);
    expect(job).toMatchObject({ id: created.id, expireAt: now + 3_600_000, rowCount: 15 });

    const res = await fetch(job.downloadUrl as string);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(emulator.expectedCsv(CONTRACT, dataset, START, end))).toBe(true);
  });

  it('passes LinkedIn’s documented error body {message, serviceErrorCode, status} (a 404 of the get)', async () => {
    const before = emulator.requests.length;
    const res = await fetch(
      `${prismUrl}/salesAnalyticsExportJobs/1?contract=${encodeURIComponent(CONTRACT)}`,
      { headers: { authorization: `Bearer ${emulator.token}`, 'x-restli-protocol-version': '2.0.0' } },
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      message: 'No export job 1 for this contract',
      serviceErrorCode: 404,
      status: 404,
    });
    const err = await client.getExportJob(1, CONTRACT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInRequestError);
    expect((err as Error).message).toContain('(serviceErrorCode 404, status 404)');
    expect(emulator.requests.slice(before).map((r) => r.status)).toEqual([404, 404]);
  });

  it('rejects requests that break the spec before they reach the emulator', async () => {
    const before = emulator.requests.length;
    const headers = {
      authorization: `Bearer ${emulator.token}`,
      'x-restli-protocol-version': '2.0.0',
      'content-type': 'application/json',
    };
    const noContract = await fetch(`${prismUrl}/salesAnalyticsExportJobs/900000001`, { headers });
    expect(noContract.status).toBe(422);
    expect(JSON.stringify(await noContract.json())).toContain("required property 'contract'");

    const badBody = await fetch(`${prismUrl}/salesAnalyticsExportJobs?action=exportActivityData`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ contract: CONTRACT, startAt: '2024-05-01', endAt: START + DAY_MS }),
    });
    expect(badBody.status).toBe(422);

    const noToken = await fetch(`${prismUrl}/salesContracts?q=contractsByMember`, {
      headers: { 'x-restli-protocol-version': '2.0.0' },
    });
    expect(noToken.status).toBe(401);
    expect(emulator.requests.length).toBe(before);
  });
});
