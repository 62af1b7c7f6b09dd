// The download has undici's HTTP parser (WebAssembly) compiled by V8's baseline compiler only.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { openDownload } from '#linkedin/download';

let server: Server;
let origin: string;

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
  vi.restoreAllMocks();
  server.close();
  await once(server, 'close');
});

async function download(): Promise<string> {
  const opened = await openDownload(`${origin}/export.csv?signature=x`, {
    allowedHosts: [new URL(origin).host],
    idleTimeoutMs: 5_000,
  });
  if (opened.kind !== 'ok') throw new Error(`refused: ${opened.status}`);
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

it('sets --liftoff-only before the first connection (the one that compiles llhttp), once per process', async () => {
  const order: string[] = [];
  const setFlagsFromString = v8.setFlagsFromString.bind(v8);
  const setFlags = vi.spyOn(v8, 'setFlagsFromString').mockImplementation((flags: string) => {
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

  expect(await download()).toBe('a\r\n1');
  expect(await download()).toBe('a\r\n1');

  expect(setFlags).toHaveBeenCalledTimes(1);
  expect(order[0]).toBe('flags --liftoff-only');
  expect(order).toContain('compile');
});
