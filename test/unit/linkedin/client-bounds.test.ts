// An API answer is read with a bound: an endless body, a huge declared one or a gzip bomb is refused by name.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkedInResponseError } from '#common/errors';
import { LinkedInClient, MAX_API_BODY_BYTES } from '#linkedin/client';

let server: Server | undefined;
let sent = 0;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(answer: (res: ServerResponse) => void): Promise<LinkedInClient> {
  sent = 0;
  server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new LinkedInClient({ baseUrl: `http://127.0.0.1:${port}/v2`, getToken: async () => 'token' });
}

const MiB = 2 ** 20;
const page = (elements: unknown[]) =>
  JSON.stringify({ elements, paging: { start: 0, count: 100, total: elements.length } });

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(LinkedInResponseError);
  expect(err.message).toContain(`larger than ${MAX_API_BODY_BYTES / MiB} MiB`);
  return err;
}

describe('API answers are read with a cap', () => {
  it('an endless body (no Content-Length) is cut just past the cap', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const client = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"elements":[');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await refusal(client.listContracts());
    // Far less than the endless stream: the read stops at the cap (plus what was in flight).
    expect(sent).toBeLessThan(64 * MiB);
  });

  it('a declared Content-Length over the cap is refused before reading', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * MiB) });
      res.write('{');
    });
    await refusal(client.listContracts());
  });

  it('a gzip bomb is cut on the decoded size, not the few KiB sent', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"elements":['), Buffer.alloc(64 * MiB, 0x20)]));
    expect(bomb.length).toBeLessThan(MiB);
    const client = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    await refusal(client.listContracts());
  });

  it('an answer under the cap is read as before', async () => {
    const client = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(page([{ contract: 'urn:li:contract:1', name: 'EMEA', hasReportingAccess: true }]));
    });
    expect(await client.listContracts()).toHaveLength(1);
  });
});
