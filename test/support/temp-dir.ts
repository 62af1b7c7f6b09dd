// Vitest setup: each test file gets its own temp dir (TMPDIR), removed after the file with what it holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// A CDK App without an outdir makes a cdk.outXXXX folder (with the bundled assets) in os.tmpdir()
// and never removes it. CDK_OUTDIR cannot be used instead: with it set, every App also synthesizes
// itself when the process exits. So the file's temp dir is moved, and removed after the file.
const dir = mkdtempSync(join(tmpdir(), 'salesnav-test-'));
const previous = process.env.TMPDIR;
process.env.TMPDIR = dir;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(dir, { recursive: true, force: true });
});
