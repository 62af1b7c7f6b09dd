import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkedInThrottledError, LinkedInTransientError } from '#common/errors';
import { STEP_TIMEOUTS } from '#lib/workflow';
import { END_MARGIN_MS, LinkedInClient } from '#linkedin/client';

/**
 * A LinkedIn call never outlasts the Lambda running it: waits for Retry-After and request timeouts
 * fit in the invocation's remaining time, and what does not fit ends as a named error the state
 * machine retries (LinkedInThrottledError / LinkedInTransientError), never as a Lambda timeout.
 */
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(
  answer: 'throttle' | 'hang',
  retryAfter = '20',
): Promise<{ baseUrl: string; count: () => number }> {
  let requests = 0;
  server = createServer((_req, res) => {
    requests++;
    if (answer === 'hang') return;
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': retryAfter }).end('{}');
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v2`, count: () => requests };
}

/** A client on a simulated invocation clock: sleeping spends the invocation's remaining time. */
function clientWithin(
  baseUrl: string,
  remainingAtStartMs: number,
  opts: { maxRetryAfterSeconds?: number } = {},
) {
  let slept = 0;
  const api = new LinkedInClient({
    baseUrl,
    getToken: () => Promise.resolve('t'),
    maxRetryAfterSeconds: opts.maxRetryAfterSeconds ?? 20,
    sleep: async (ms) => {
      slept += ms;
    },
    remainingMs: () => remainingAtStartMs - slept,
  });
  return { api, slept: () => slept };
}

describe('LinkedIn client within the Lambda timeout', () => {
  it('does not wait for a Retry-After that would outlast the invocation: LinkedInThrottledError instead', async () => {
    const { baseUrl, count } = await serve('throttle', '20');
    // 30 s left: one 20 s wait fits, a second one would not.
    const { api, slept } = clientWithin(baseUrl, 30_000);
    await expect(api.getExportJob(1, 'urn:li:contract:1')).rejects.toBeInstanceOf(LinkedInThrottledError);
    expect(slept()).toBe(20_000);
    expect(count()).toBe(2);
    expect(slept()).toBeLessThan(30_000 - END_MARGIN_MS);
  });

  it.each(['planRun', 'createJob', 'checkJob', 'copyToS3'] as const)(
    '%s: a LinkedIn that answers 429 forever ends the call inside the function timeout',
    async (step) => {
      const { baseUrl } = await serve('throttle', '20');
      const timeoutMs = STEP_TIMEOUTS[step].toMilliseconds();
      const { api, slept } = clientWithin(baseUrl, timeoutMs);
      await expect(api.listContracts()).rejects.toMatchObject({ name: 'LinkedInThrottledError' });
      expect(slept()).toBeLessThan(timeoutMs - END_MARGIN_MS);
    },
  );

  it('cuts a request that would outlast the invocation short: LinkedInTransientError naming the wait', async () => {
    const { baseUrl } = await serve('hang');
    const { api } = clientWithin(baseUrl, END_MARGIN_MS + 200);
    const err = await api.getExportJob(1, 'urn:li:contract:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkedInTransientError);
    expect((err as Error).message).toMatch(/no answer within \d{1,3} ms/);
  });
});

describe('LinkedIn client: which failures leave a POST ambiguous', () => {
  it('a POST without an answer is ambiguous; a GET is not', async () => {
    const { baseUrl } = await serve('hang');
    const api = new LinkedInClient({ baseUrl, getToken: () => Promise.resolve('t'), requestTimeoutMs: 100 });
    const post = await api
      .createExportJob('seat', 'urn:li:contract:1', 0, 86_400_000)
      .catch((e: unknown) => e);
    expect(post).toMatchObject({ name: 'LinkedInTransientError', ambiguous: true });
    const get = await api.getExportJob(1, 'urn:li:contract:1').catch((e: unknown) => e);
    expect(get).toMatchObject({ name: 'LinkedInTransientError', ambiguous: false });
  });

  it('a POST to a closed port (connection refused) is not ambiguous', async () => {
    const { baseUrl } = await serve('hang');
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const api = new LinkedInClient({ baseUrl, getToken: () => Promise.resolve('t') });
    const post = await api
      .createExportJob('seat', 'urn:li:contract:1', 0, 86_400_000)
      .catch((e: unknown) => e);
    expect(post).toMatchObject({ name: 'LinkedInTransientError', ambiguous: false });
  });
});
