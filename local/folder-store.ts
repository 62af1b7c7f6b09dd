// A local folder as the store: atomic writes by rename, keys validated, metadata in a hidden sidecar.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import {
  link,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  BodyInspector,
  ConditionalJsonStore,
  ObjectStore,
  UploadOptions,
  VersionedJson,
} from '#storage/store';

/** Marks an object still being written; `list` never returns these. */
const TEMP_SUFFIX = '.partial';
/**
 * `.<file>.metadata.json` next to an object holds its metadata and tags in one map (what S3 keeps as
 * `x-amz-meta-*` and as object tags; the steps give both the same keys).
 */
const METADATA_SUFFIX = '.metadata.json';
/** Bytes queued for the disk while the next ones arrive (the default 16 KiB serialises reads and writes). */
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Exported member data is the user's alone: files rw-------, folders rwx------ (before the umask). */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * An `ObjectStore` on a local folder: every object is a plain file at its key, so the CSVs open
 * directly. Writes go to a temp file in the target directory and are renamed when whole, so an
 * object never appears half-written. Object metadata and tags (e.g. where the data came from) are
 * kept in a hidden sidecar file `.<file>.metadata.json`; hidden files are never listed as objects.
 */
export class FolderStore implements ObjectStore {
  readonly location: string;

  /**
   * Conditional writes for the item leases, atomic on one file system: create by hard-linking a
   * whole temp file to the key (fails if it exists, so a reader never sees a half-written lease);
   * replace and remove by first renaming the object aside to a name only this caller knows (one of
   * two racing callers gets it, the other ENOENT), then checking its tag (a SHA-256 of the content).
   */
  readonly conditional: ConditionalJsonStore;

  constructor(root: string) {
    this.location = resolve(root);
    this.conditional = {
      createJson: (key, value) => this.createJson(key, value),
      getJsonVersion: (key) => this.getJsonVersion(key),
      replaceJson: (key, value, etag) => this.replaceJson(key, value, etag),
      removeIfMatch: (key, etag) => this.removeIfMatch(key, etag),
    };
  }

  private async createJson(key: string, value: unknown): Promise<{ etag: string } | undefined> {
    const target = this.pathOf(key);
    const text = JSON.stringify(value, null, 2);
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    await this.assertInsideRoot(dirname(target), key);
    const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}${TEMP_SUFFIX}`);
    await writeFile(temp, text, { flag: 'wx', mode: FILE_MODE });
    try {
      await link(temp, target);
      return { etag: tagOf(text) };
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return undefined;
      throw err;
    } finally {
      await rm(temp, { force: true });
    }
  }

  private async getJsonVersion(key: string): Promise<VersionedJson | undefined> {
    const text = await this.readText(key);
    if (text === undefined) return undefined;
    return { value: JSON.parse(text), etag: tagOf(text) };
  }

  /** The object's text, or undefined when there is none. */
  private async readText(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf(key), 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Moves the object at `key` aside when its tag is `etag`: the aside path, or undefined (changed or gone). */
  private async takeAside(key: string, etag: string): Promise<string | undefined> {
    const target = this.pathOf(key);
    const aside = join(dirname(target), `.${basename(target)}.${randomUUID()}.aside`);
    try {
      await rename(target, aside);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (tagOf(await readFile(aside, 'utf8')) === etag) return aside;
    // Not the version the caller read: put it back where it was, unless a new one was created meanwhile.
    await link(aside, target).catch(() => undefined);
    await unlink(aside);
    return undefined;
  }

  private async replaceJson(
    key: string,
    value: unknown,
    etag: string,
  ): Promise<{ etag: string } | undefined> {
    const aside = await this.takeAside(key, etag);
    if (!aside) return undefined;
    await rm(aside, { force: true });
    return this.createJson(key, value);
  }

  private async removeIfMatch(key: string, etag: string): Promise<boolean> {
    const aside = await this.takeAside(key, etag);
    if (aside) {
      await rm(aside, { force: true });
      return true;
    }
    return !(await this.exists(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** The sidecar's map (metadata and tags); `{}` for an object without one. */
  async tagsOf(key: string): Promise<Record<string, string> | undefined> {
    if (!(await this.exists(key))) return undefined;
    const target = this.pathOf(key);
    try {
      const parsed: unknown = JSON.parse(await readFile(metadataPathOf(target), 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
      return Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    } catch (err) {
      // No sidecar (an object written by an earlier version) or an unreadable one: no metadata.
      if (isNotFound(err) || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    const target = this.pathOf(key);
    // The object first, then its sidecar: an object is never left without the metadata it had.
    await rm(target, { force: true });
    await rm(metadataPathOf(target), { force: true });
  }

  /**
   * Removes the `.partial` temp files a killed run left behind. Only safe while this process holds
   * the destination's lock (no other writer can be mid-write). Returns how many were removed.
   */
  async removeStaleTemps(): Promise<number> {
    const entries = await readdir(this.location, { recursive: true, withFileTypes: true }).catch(
      (err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      },
    );
    const stale = entries.filter((e) => e.isFile() && e.name.endsWith(TEMP_SUFFIX));
    await Promise.all(stale.map((e) => rm(join(e.parentPath, e.name), { force: true })));
    return stale.length;
  }

  async getJson(key: string): Promise<unknown | undefined> {
    const text = await this.readText(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.pathOf(key)} is not valid JSON`, { cause: err });
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.upload(key, Readable.from([JSON.stringify(value, null, 2)]), {
      contentType: 'application/json',
      metadata: {},
    });
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the deepest directory the prefix names, then filter on the rest of it.
    const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      const path = relative ? this.pathOf(relative) : this.location;
      const entries = await readdir(path, { withFileTypes: true }).catch((err: unknown) => {
        if (isNotFound(err)) return [];
        throw err;
      });
      for (const entry of entries) {
        const key = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (`${key}/`.startsWith(prefix)) await walk(key);
        } else if (entry.isFile() && !entry.name.startsWith('.') && key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(dir);
    return keys.sort();
  }

  async upload(key: string, body: Readable, options: UploadOptions): Promise<{ bytes: number }> {
    const target = this.pathOf(key);
    const sidecar = { ...options.metadata, ...options.tags };
    // The body may fail while the folder is being made, before `pipeline` listens: hold the error
    // (pipeline then sees the already-errored stream and rejects with it) instead of letting it crash.
    const hold = (): void => {};
    body.on('error', hold);
    const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}${TEMP_SUFFIX}`);
    try {
      await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
      await this.assertInsideRoot(dirname(target), key);
      const written = pipeline(
        body,
        createWriteStream(temp, { flags: 'wx', mode: FILE_MODE, highWaterMark: WRITE_BUFFER_BYTES }),
      );
      body.off('error', hold);
      if (options.inspect) inspectWhileWriting(body, options.inspect);
      await written;
      options.inspect?.end();
      const { size } = await stat(temp);
      if (Object.keys(sidecar).length) {
        // The sidecar lands just before the object, each by rename, so neither is ever half-written.
        const metaTemp = `${temp}${METADATA_SUFFIX}${TEMP_SUFFIX}`;
        await writeFile(metaTemp, JSON.stringify(sidecar), { flag: 'wx', mode: FILE_MODE });
        await rename(metaTemp, metadataPathOf(target)).catch(async (err: unknown) => {
          await rm(metaTemp, { force: true });
          throw err;
        });
      }
      await rename(temp, target);
      return { bytes: size };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Refuses to write through a symbolic link: the real path of the folder a key lands in must stay
   * under the real path of the store's root, so a link planted inside the destination (say
   * `exports/seat -> /etc`) cannot send member data, or an overwrite, anywhere else.
   */
  private async assertInsideRoot(dir: string, key: string): Promise<void> {
    const [root, real] = await Promise.all([realpath(this.location), realpath(dir)]);
    if (real !== root && !real.startsWith(root + sep)) {
      throw new Error(
        `refusing to write "${key}": its folder resolves to ${real}, outside the destination ${root} ` +
          '(a symbolic link inside the destination); remove the link',
      );
    }
  }

  /** Absolute path of `key`; rejects keys that could leave the root. */
  private pathOf(key: string): string {
    const segments = key.split('/');
    if (
      key.startsWith('/') ||
      key.includes('\\') ||
      segments.some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw new Error(
        `invalid object key "${key}": keys are relative, '/'-separated, without . or .. segments`,
      );
    }
    const path = join(this.location, ...segments);
    if (!path.startsWith(this.location + sep))
      throw new Error(`invalid object key "${key}": outside the store`);
    return path;
  }
}

/**
 * Shows `inspect` each chunk as `pipeline` writes it (a second 'data' listener: no stream stage). A
 * chunk it refuses fails the body, hence the pipeline, with its error; the temp file is removed.
 */
function inspectWhileWriting(body: Readable, inspect: BodyInspector): void {
  const onData = (chunk: Buffer): void => {
    try {
      inspect.chunk(chunk);
    } catch (err) {
      body.off('data', onData);
      body.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };
  body.on('data', onData);
}

/** The folder store's ETag: SHA-256 of the object's text. */
function tagOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function metadataPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}${METADATA_SUFFIX}`);
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}
