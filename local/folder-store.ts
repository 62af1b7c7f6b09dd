// A local folder as the store: atomic writes by rename, keys validated.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '#storage/store';

/** Marks an object still being written; `list` never returns these. */
const TEMP_SUFFIX = '.partial';
/** Bytes queued for the disk while the next ones arrive (the default 16 KiB serialises reads and writes). */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * An `ObjectStore` on a local folder: every object is a plain file at its key, so the CSVs open
 * directly. Writes go to a temp file in the target directory and are renamed when whole, so an
 * object never appears half-written. Object metadata is not kept (S3 only).
 */
export class FolderStore implements ObjectStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async getJson(key: string): Promise<unknown | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(key), 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
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
        } else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX) && key.startsWith(prefix))
          keys.push(key);
      }
    };
    await walk(dir);
    return keys.sort();
  }

  async upload(
    key: string,
    body: Readable,
    _options: { contentType: string; metadata: Record<string, string> },
  ): Promise<{ bytes: number }> {
    const target = this.pathOf(key);
    // The body may fail while the folder is being made, before `pipeline` listens: hold the error
    // (pipeline then sees the already-errored stream and rejects with it) instead of letting it crash.
    const hold = (): void => {};
    body.on('error', hold);
    const temp = join(dirname(target), `.${basename(target)}.${randomUUID()}${TEMP_SUFFIX}`);
    try {
      await mkdir(dirname(target), { recursive: true });
      const written = pipeline(
        body,
        createWriteStream(temp, { flags: 'wx', highWaterMark: WRITE_BUFFER_BYTES }),
      );
      body.off('error', hold);
      await written;
      const { size } = await stat(temp);
      await rename(temp, target);
      return { bytes: size };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
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

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}
