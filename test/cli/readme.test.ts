// The README a user clones: links stay inside the repo, Node requirement agrees everywhere, flags and columns documented.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { DATASETS } from '#common/model';
import { USAGE } from '#local/cli/main';
import { CSV_HEADERS } from '#local/emulator/csv';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFile(join(ROOT, path), 'utf8');

it('links only to files of the repository (or to absolute URLs), and every linked file exists', async () => {
  const readme = await read('README.md');
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
  const local = targets.filter((t) => !/^(https?:|#)/.test(t));
  expect(local.filter((t) => t.startsWith('../') || t.startsWith('/'))).toEqual([]);
  for (const target of local)
    expect(existsSync(join(ROOT, target.split('#')[0] as string)), target).toBe(true);
});

it('states the Node requirement package.json engines and CI enforce', async () => {
  const [readme, pkg, ci] = await Promise.all([read('README.md'), read('package.json'), read('.ci/run')]);
  const engines = (JSON.parse(pkg) as { engines: { node: string } }).engines.node;
  const version = /^>=(\d+\.\d+)$/.exec(engines)?.[1];
  expect(version).toBeDefined();
  expect(readme).toContain(`Node.js ${version} or later`);
  expect(readme).not.toMatch(/Node 20\+/);
  expect(ci).toContain('engines.node');
});

it('has a Get access section with the scope, the roles, the contracts and the token lifetime', async () => {
  const readme = await read('README.md');
  const section = readme.slice(readme.indexOf('## Get access'), readme.indexOf('## The data'));
  for (const needed of [
    'r_sales_nav_analytics',
    'partner',
    'reporting or administrator role',
    'Advanced Plus',
    '3-legged OAuth',
    '60 days',
    'LINKEDIN_ACCESS_TOKEN',
  ]) {
    expect(section).toContain(needed);
  }
});

it('documents every column of every dataset, with a sample, and every CLI flag', async () => {
  const readme = await read('README.md');
  for (const dataset of DATASETS) {
    expect(readme).toContain(`**\`${dataset}\`**`);
    expect(readme).toContain(CSV_HEADERS[dataset].join(','));
    for (const column of CSV_HEADERS[dataset]) expect(readme).toContain(`| \`${column}\``);
  }
  for (const flag of USAGE.match(/--[a-z-]+/g) ?? []) expect(readme, flag).toContain(flag);
});

it('writes windows as [start, end), never as start..end', async () => {
  const readme = await read('README.md');
  expect(readme).toContain('[start, end)');
  expect(readme).not.toMatch(/\d{4}-\d{2}-\d{2}\.\.\d{4}/);
  expect(USAGE).toContain('[start, end)');
});
