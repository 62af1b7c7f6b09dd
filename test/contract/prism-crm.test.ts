/**
 * Contract check of the CRM data validation calls: the real LinkedInClient talks to the emulator
 * through a Prism validation proxy built from the spec copy (`--errors`: any request or response that
 * breaks the spec becomes an error). The emulator answers the create as LinkedIn documents it (201,
 * `X-RestLi-Id` and `Location`, no body). The seed spec declared a JSON body for that 201, which made
 * Prism refuse LinkedIn's documented answer ("media type \"\" does not match … application/json"), so
 * the copy in spec/ declares the headers and no body (docs/linkedin-api-notes.md); the seed spec's
 * body answer still passes (`seedCreateBody` knob).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkedInRequestError } from '#common/errors';
import { LinkedInClient } from '#linkedin/client';
import { CRM_CSV_HEADER, DEFAULT_CRM_INSTANCE } from '#local/emulator/crm';
import { type Emulator, startEmulator } from '#local/emulator/server';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const SPEC = repo('spec/linkedin-sales-navigator.openapi.yml');
const PRISM = repo('node_modules/.bin/prism');
const INSTANCE = DEFAULT_CRM_INSTANCE;
const DAY = 86_400_000;

let now = Date.UTC(2026, 10, 20, 7);
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
  emulator = await startEmulator({ now: () => now, crm: { processingMs: 1000 } });
  const port = await freePort();
  prism = await startPrism(emulator.url, port);
  prismUrl = `http://127.0.0.1:${port}`;
  client = new LinkedInClient({ baseUrl: prismUrl, getToken: async () => emulator.token });
}, 60_000);

afterAll(async () => {
  if (prism && prism.exitCode === null) {
    const exited = once(prism, 'exit');
    prism.kill('SIGTERM');
    await exited;
  }
  await emulator?.close();
}, 30_000);

describe('CRM data validation: LinkedInClient ↔ emulator through Prism (seed spec, --errors)', () => {
  it('creates a job (201, X-RestLi-Id, no body), polls it to COMPLETED and downloads every part', async () => {
    const before = emulator.requests.length;
    const startAt = now - 3 * DAY;
    const { id } = await client.createCrmValidationJob(INSTANCE, startAt);
    expect(emulator.requests.slice(before)).toMatchObject([
      { method: 'POST', path: '/v2/crmDataValidationExportJobs', status: 201 },
    ]);
    const end = now;
    let job = await client.getCrmValidationJob(id, INSTANCE);
    expect(job.status).toBe('PROCESSING');
    now += 1000;
    job = await client.getCrmValidationJob(id, INSTANCE);
    expect(job).toMatchObject({
      id,
      status: 'COMPLETED',
      exportStartAt: startAt,
      exportEndAt: end,
      nextExportStartAt: end,
    });
    expect(job.downloadUrls).toHaveLength(3);
    const rows: string[] = [];
    for (const url of job.downloadUrls) {
      const [header, ...lines] = (await (await fetch(url)).text()).trimEnd().split('\r\n');
      expect(header).toBe(CRM_CSV_HEADER);
      rows.push(...lines);
    }
    expect(rows).toEqual(emulator.expectedCrmRows(INSTANCE, startAt, end));
  });

  it("accepts the seed spec's 201 with a JSON body", async () => {
    emulator.setCrmScenario(INSTANCE, { seedCreateBody: true });
    try {
      const { id } = await client.createCrmValidationJob(INSTANCE, now - DAY);
      expect(emulator.crmJobs().at(-1)?.id).toBe(id);
    } finally {
      emulator.setCrmScenario(INSTANCE, {});
    }
  });

  it('passes the 404 of an unknown job with its documented error body', async () => {
    const err = await client.getCrmValidationJob(1, INSTANCE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInRequestError);
    expect((err as Error).message).toContain('(serviceErrorCode 404, status 404)');
  });

  it('rejects requests that break the spec before they reach the emulator', async () => {
    const before = emulator.requests.length;
    const headers = {
      authorization: `Bearer ${emulator.token}`,
      'x-restli-protocol-version': '2.0.0',
      'content-type': 'application/json',
    };
    const noInstance = await fetch(`${prismUrl}/crmDataValidationExportJobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ exportStartAt: now - DAY }),
    });
    expect(noInstance.status).toBe(422);
    expect(JSON.stringify(await noInstance.json())).toMatch(/required property 'crminstanceid'/i);
    const badStart = await fetch(`${prismUrl}/crmDataValidationExportJobs?crmInstanceId=x`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ exportStartAt: '2026-11-01' }),
    });
    expect(badStart.status).toBe(422);
    expect(emulator.requests.length).toBe(before);
  });
});
