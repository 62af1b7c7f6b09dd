import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderStore } from '#local/folder-store';

const CSV = { contentType: 'text/csv', metadata: {} };

let root: string;
let store: FolderStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'folder-store-'));
  store = new FolderStore(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Yields `chunks`, then fails with `error`. */
function failingBody(chunks: string[], error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* chunks;
      throw error;
    })(),
  );
}

describe('FolderStore', () => {
  it('writes plain files at their keys and reports the size', async () => {
    const key = 'sales-navigator/seat/contract=1/window=2025-01-01_2025-01-02/seat.csv';
    const result = await store.upload(key, Readable.from(['a,b\n', '1,2\n']), CSV);

    expect(result).toEqual({ bytes: 8 });
    expect(await readFile(join(root, ...key.split('/')), 'utf8')).toBe('a,b\n1,2\n');
    expect(await store.exists(key)).toBe(true);
    expect(store.location).toBe(root);
  });

  it('leaves nothing behind (and keeps an older object) when the body fails', async () => {
    await store.upload('d/x.csv', Readable.from(['old']), CSV);
    const boom = new Error('body broke');

    await expect(store.upload('d/x.csv', failingBody(['new', 'er'], boom), CSV)).rejects.toBe(boom);
    await expect(store.upload('d/y.csv', failingBody(['partial'], boom), CSV)).rejects.toBe(boom);

    expect(await readdir(join(root, 'd'))).toEqual(['x.csv']);
    expect(await readFile(join(root, 'd', 'x.csv'), 'utf8')).toBe('old');
    expect(await store.exists('d/y.csv')).toBe(false);
  });

  it('shows every chunk to inspect as it is written; a refusal (at a chunk or the end) leaves nothing', async () => {
    const seen: string[] = [];
    let ended = false;
    const refusal = new Error('inspector refused the body');
    const inspect = (refuse?: 'chunk' | 'end') => ({
      chunk(bytes: Buffer) {
        seen.push(bytes.toString());
        if (refuse === 'chunk' && seen.length === 2) throw refusal;
      },
      end() {
        ended = true;
        if (refuse === 'end') throw refusal;
      },
    });

    await store.upload('d/x.csv', Readable.from(['a,b\n', '1,2\n']), { ...CSV, inspect: inspect() });
    expect(seen).toEqual(['a,b\n', '1,2\n']);
    expect(ended).toBe(true);

    for (const refuse of ['chunk', 'end'] as const) {
      seen.length = 0;
      const body = Readable.from(['a,b\n', '1,2\n', '3,4\n']);
      await expect(store.upload(`d/${refuse}.csv`, body, { ...CSV, inspect: inspect(refuse) })).rejects.toBe(
        refusal,
      );
      expect(await store.exists(`d/${refuse}.csv`)).toBe(false);
    }
    expect(await readdir(join(root, 'd'))).toEqual(['x.csv']);
  });

  it('rejects (does not crash) when the body fails while the folder is still being created', async () => {
    const boom = new Error('cut off before the first byte was written');
    const body = new Readable({ read() {} });
    const upload = store.upload('deep/new/folder/x.csv', body, CSV);
    body.destroy(boom); // before upload() has finished creating deep/new/folder

    await expect(upload).rejects.toBe(boom);
    expect(await store.list('deep/')).toEqual([]);
  });

  it('round-trips JSON and answers undefined / false for missing keys', async () => {
    await store.putJson('manifests/run-1.json', { items: [1, 2] });

    expect(await store.getJson('manifests/run-1.json')).toEqual({ items: [1, 2] });
    expect(await store.getJson('manifests/missing.json')).toBeUndefined();
    expect(await store.getJson('nowhere/at/all.json')).toBeUndefined();
    expect(await store.exists('manifests')).toBe(false);
  });

  it('names the file when stored JSON is corrupt', async () => {
    await writeFile(join(root, 'bad.json'), '{');
    await expect(store.getJson('bad.json')).rejects.toThrow(/bad\.json is not valid JSON/);
  });

  it.each([
    '/etc/passwd',
    '../outside.csv',
    'a/../../outside.csv',
    'a/./b.csv',
    'a//b.csv',
    '',
    'a\\..\\b.csv',
  ])('rejects the key %j', async (key) => {
    await expect(store.upload(key, Readable.from(['x']), CSV)).rejects.toThrow(/invalid object key/);
    await expect(store.exists(key)).rejects.toThrow(/invalid object key/);
    await expect(store.getJson(key)).rejects.toThrow(/invalid object key/);
  });

  it('lists keys recursively under a prefix, sorted, without temp files', async () => {
    for (const key of ['b/2.csv', 'b/1.csv', 'a/x/deep.csv', 'ab/z.csv', 'top.json']) {
      await store.upload(key, Readable.from(['x']), CSV);
    }
    await writeFile(join(root, 'b', '.3.csv.1234.partial'), 'half');

    expect(await store.list('')).toEqual(['a/x/deep.csv', 'ab/z.csv', 'b/1.csv', 'b/2.csv', 'top.json']);
    expect(await store.list('a/')).toEqual(['a/x/deep.csv']);
    expect(await store.list('a')).toEqual(['a/x/deep.csv', 'ab/z.csv']);
    expect(await store.list('b/1')).toEqual(['b/1.csv']);
    expect(await store.list('missing/')).toEqual([]);
    await expect(store.list('../')).rejects.toThrow(/invalid object key/);
  });
});

describe('the destination is the user’s alone', () => {
  it('refuses to write through a directory symlink planted inside the destination', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'folder-store-outside-'));
    try {
      await mkdir(join(root, 'exports'), { recursive: true });
      await symlink(outside, join(root, 'exports', 'seat'), 'dir');
      await expect(store.upload('exports/seat/a.csv', Readable.from(['x\n']), CSV)).rejects.toThrow(
        /refusing to write "exports\/seat\/a.csv": its folder resolves to .* outside the destination/,
      );
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('a destination that is itself a symlink is fine (its real path is the root)', async () => {
    const link = `${root}-link`;
    await symlink(root, link, 'dir');
    try {
      await new FolderStore(link).upload('a/b.csv', Readable.from(['x\n']), CSV);
      expect(await readFile(join(root, 'a', 'b.csv'), 'utf8')).toBe('x\n');
    } finally {
      await rm(link, { force: true });
    }
  });

  it('writes files 0600 and folders 0700 (with a permissive umask too)', async () => {
    const umask = process.umask(0);
    try {
      await store.upload('exports/seat/a.csv', Readable.from(['x\n']), {
        ...CSV,
        metadata: { source: 'emulator' },
      });
      expect((await stat(join(root, 'exports', 'seat', 'a.csv'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(root, 'exports', 'seat', '.a.csv.metadata.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(root, 'exports', 'seat'))).mode & 0o777).toBe(0o700);
      expect((await stat(join(root, 'exports'))).mode & 0o777).toBe(0o700);
    } finally {
      process.umask(umask);
    }
  });
});

describe('conditional writes (item leases)', () => {
  const KEY = 'manifests/leases/1/seat/2026-10-01_2026-10-04.json';

  it('creates only when absent: of ten racing creates exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.conditional.createJson(KEY, { runId: `run-${i}` })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.findIndex(Boolean);
    expect(await store.getJson(KEY)).toEqual({ runId: `run-${winner}` });
    // No temp file is left, and the lease lists like any object.
    expect(await store.list('manifests/')).toEqual([KEY]);
    expect((await readdir(join(root, 'manifests/leases/1/seat'))).filter((n) => n.startsWith('.'))).toEqual(
      [],
    );
  });

  it('replaces and removes only on the tag read; a stale tag changes nothing', async () => {
    const created = await store.conditional.createJson(KEY, { runId: 'a' });
    const read = await store.conditional.getJsonVersion(KEY);
    expect(read).toEqual({ value: { runId: 'a' }, etag: created?.etag });
    const replaced = await store.conditional.replaceJson(KEY, { runId: 'b' }, read?.etag ?? '');
    expect(replaced?.etag).not.toBe(created?.etag);
    // A second takeover with the old tag loses (412 on S3), and the new lease stays.
    expect(await store.conditional.replaceJson(KEY, { runId: 'c' }, read?.etag ?? '')).toBeUndefined();
    expect(await store.conditional.removeIfMatch(KEY, read?.etag ?? '')).toBe(false);
    expect(await store.getJson(KEY)).toEqual({ runId: 'b' });
    expect(await store.conditional.removeIfMatch(KEY, replaced?.etag ?? '')).toBe(true);
    expect(await store.exists(KEY)).toBe(false);
    expect(await store.conditional.replaceJson(KEY, { runId: 'd' }, replaced?.etag ?? '')).toBeUndefined();
  });

  it('of two racing takeovers with the same tag exactly one wins', async () => {
    await store.conditional.createJson(KEY, { runId: 'old' });
    const tag = (await store.conditional.getJsonVersion(KEY))?.etag ?? '';
    const results = await Promise.all([
      store.conditional.replaceJson(KEY, { runId: 'x' }, tag),
      store.conditional.replaceJson(KEY, { runId: 'y' }, tag),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.getJson(KEY)).toEqual({ runId: results[0] ? 'x' : 'y' });
  });
});
