// V8 compiles the HTTP parsers (llhttp, WebAssembly) of downloads and of the API's fetch with its baseline compiler only.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';

let server: Server;
let origin: string;
let order: string[];

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.setHeader('content-length', '4');
    res.end('a\r\n1');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Records V8 flags set and WebAssembly modules compiled, in order; the flag is still set for real. */
function watch(): void {
  order = [];
  const setFlagsFromString = v8.setFlagsFromString.bind(v8);
  vi.spyOn(v8, 'setFlagsFromString').mockImplementation((flags: string) => {
    order.push(`flags ${flags}`);
    setFlagsFromString(flags);
  });
  // The global WebAssembly is not in this project's TypeScript libs (no DOM): typed here as used.
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } })
    .WebAssembly;
  const RealModule = wasm.Module;
  // A function declaration: undici calls it with `new`, which an arrow function refuses.
  function compile(bytes: Uint8Array): object {
    order.push('compile');
    return new RealModule(bytes);
  }
  vi.spyOn(wasm, 'Module').mockImplementation(compile);
}

it('a download sets --liftoff-only before its first connection (the one that compiles llhttp), once', async () => {
  vi.resetModules();
  watch();
  const { openDownload } = await import('#linkedin/download');
  const download = async (): Promise<string> => {
    const opened = await openDownload(`${origin}/export.csv?signature=x`, {
      allowedHosts: [new URL(origin).host],
      idleTimeoutMs: 5_000,
    });
    if (opened.kind !== 'ok') throw new Error(`refused: ${opened.status}`);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  };

  expect(await download()).toBe('a\r\n1');
  expect(await download()).toBe('a\r\n1');

  expect(order.filter((step) => step.startsWith('flags'))).toEqual(['flags --liftoff-only']);
  expect(order[0]).toBe('flags --liftoff-only');
  expect(order).toContain('compile');
});

it('an API request sets it before its fetch, whose first request compiles Node’s own llhttp', async () => {
  vi.resetModules();
  watch();
  const { LinkedInClient } = await import('#linkedin/client');
  const fetch = vi.fn(async () => {
    order.push('fetch');
    return new Response(JSON.stringify({ elements: [], paging: { start: 0, count: 0 } }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  const api = new LinkedInClient({
    baseUrl: 'https://api.linkedin.com',
    getToken: () => Promise.resolve('token'),
    fetch: fetch as unknown as typeof globalThis.fetch,
  });

  await api.listContracts().catch(() => undefined);

  expect(fetch).toHaveBeenCalled();
  expect(order.slice(0, 2)).toEqual(['flags --liftoff-only', 'fetch']);
});

it('an OAuth request (token refresh, rotation) sets it before its fetch too', async () => {
  vi.resetModules();
  watch();
  const { refreshAccessToken } = await import('#linkedin/oauth');
  const fetch = vi.fn(async () => {
    order.push('fetch');
    return new Response(JSON.stringify({ access_token: 'new', expires_in: 3600 }), {
      headers: { 'content-type': 'application/json' },
    });
  });

  await refreshAccessToken({ clientId: 'id', clientSecret: 'secret' }, 'refresh', {
    fetch: fetch as unknown as typeof globalThis.fetch,
  }).catch(() => undefined);

  expect(fetch).toHaveBeenCalled();
  expect(order.slice(0, 2)).toEqual(['flags --liftoff-only', 'fetch']);
});
