// `npm run emulator` as a child process: the --contract-urns knob and its validation.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

/** Starts the emulator with `args` and resolves with its base URL and token once it has printed them. */
async function startMain(args: string[]): Promise<{ url: string; token: string }> {
  child = spawn(TSX, ['local/emulator/main.ts', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((done, fail) => {
    child?.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /listening on (\S+)/.exec(output)?.[1];
      const token = /Access token: (\S+)/.exec(output)?.[1];
      if (url && token) done({ url, token });
    });
    child?.once('exit', (code) => fail(new Error(`emulator exited (${code}):\n${output}`)));
  });
}

async function contractUrns(url: string, token: string): Promise<string[]> {
  const res = await fetch(`${url}/salesContracts?q=contractsByMember`, {
    headers: { authorization: `Bearer ${token}`, 'x-restli-protocol-version': '2.0.0' },
  });
  const { elements } = (await res.json()) as { elements: { contract: string }[] };
  return elements.map((c) => c.contract);
}

it('serves the documented URN form by default and the seed spec’s with --contract-urns seed', async () => {
  const documented = await startMain([]);
  expect(await contractUrns(documented.url, documented.token)).toEqual([
    'urn:li:contract:1001',
    'urn:li:contract:1002',
    'urn:li:contract:1003',
  ]);
  const first = child as ChildProcess;
  first.kill('SIGTERM');
  await once(first, 'exit');

  const seed = await startMain(['--contract-urns', 'seed']);
  expect(await contractUrns(seed.url, seed.token)).toEqual([
    'urn:li:salesContract:1001',
    'urn:li:salesContract:1002',
    'urn:li:salesContract:1003',
  ]);
}, 60_000);

it('refuses an unknown --contract-urns value with exit 2 and the usage', async () => {
  const failed = await promisify(execFile)(TSX, ['local/emulator/main.ts', '--contract-urns', 'other'], {
    cwd: ROOT,
  }).catch((err: { code: number; stderr: string }) => err);
  expect(failed).toMatchObject({ code: 2 });
  expect((failed as { stderr: string }).stderr).toMatch(/--contract-urns .*\n.*usage: npm run emulator/);
}, 60_000);
