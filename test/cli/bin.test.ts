import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { addDays, utcDay } from '#common/days';
import { DATASETS } from '#common/model';
import type { Manifest } from '#steps/finish';
import { itemKey } from '#storage/keys';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let dest: string | undefined;
afterAll(() => dest && rm(dest, { recursive: true, force: true }));

// `npm run demo` is `tsx bin/export.ts --local --demo`: the same command, as a child process.
// execFile rejects unless the exit code is 0.
it('the demo entry point exports the last three days from the built-in emulator and exits 0', async () => {
  dest = await mkdtemp(join(tmpdir(), 'salesnav-demo-'));
  const today = utcDay(new Date());
  const { stdout, stderr } = await run(
    join(ROOT, 'node_modules/.bin/tsx'),
    ['bin/export.ts', '--local', '--demo', '--dest', dest, '--quiet'],
    { cwd: ROOT, env: { ...process.env, LINKEDIN_ACCESS_TOKEN: '' } },
  );

  expect(stderr).toContain('built-in LinkedIn emulator');
  expect(stderr).not.toMatch(/^\[\d+\/\d+\]/m); // --quiet: no progress lines
  const manifestPath = /^Manifest: (.+)$/m.exec(stdout)?.[1];
  expect(manifestPath && dirname(manifestPath)).toBe(join(dest, 'manifests'));
  const manifest = JSON.parse(await readFile(manifestPath as string, 'utf8')) as Manifest;
  expect(manifestPath).toBe(join(dest, 'manifests', `${manifest.runId}.json`));
  expect(manifest.window).toEqual({ from: addDays(today, -3), to: today });
  expect(manifest.summary).toMatchObject({ planned: 6, exported: 6, failed: 0 });
  for (const item of manifest.items) {
    expect(item.key).toBe(itemKey({ ...item, start: item.window.start, end: item.window.end }));
    await access(join(dest, item.key));
  }
  expect(new Set(manifest.items.map((i) => i.dataset))).toEqual(new Set(DATASETS));
  expect(stdout).toContain('Demo done');
  // The demo exports one CRM instance of the emulator too (CRM data validation, stale contacts).
  expect(manifest.crmItems?.map((i) => [i.status, i.cursor])).toEqual([['EXPORTED', 'ADVANCED']]);
  expect(stdout).toMatch(/^CRM urn:li:crmInstance:\(DYNAMICS,[\w-]+\): EXPORTED 3 part\(s\)/m);
  // It ends with the activities per type, read back from the folder with DuckDB.
  const summary = stdout.slice(stdout.indexOf('Query your data (DuckDB): npm run query -- --dest'));
  const perType = [...summary.matchAll(/^([A-Z_]+) +(\d+) +\d+$/gm)].map((m) => Number(m[2]));
  const activityRows = manifest.items
    .filter((i) => i.dataset === 'activity')
    .reduce((n, i) => n + (i.rows ?? 0), 0);
  expect(perType.length).toBeGreaterThan(0);
  expect(perType.reduce((a, b) => a + b, 0)).toBe(activityRows);
});
