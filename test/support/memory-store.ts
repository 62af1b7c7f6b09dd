import type { Readable } from 'node:stream';
import type { ObjectStore, UploadOptions } from '#storage/store';

export interface StoredObject {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * An ObjectStore kept in a Map, for unit tests of the cores. JSON is stored serialized, so a value
 * that does not survive `JSON.stringify` is caught like it would be by S3 or a folder.
 */
export class MemoryStore implements ObjectStore {
  readonly location = 'memory://exports';
  readonly objects = new Map<string, StoredObject>();

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async tagsOf(key: string): Promise<Record<string, string> | undefined> {
    const object = this.objects.get(key);
    return object && { ...object.tags };
  }

  async getJson(key: string): Promise<unknown | undefined> {
    const object = this.objects.get(key);
    return object && JSON.parse(object.body.toString('utf8'));
  }

  async putJson(key: string, value: unknown): Promise<void> {
    this.put(key, JSON.stringify(value), 'application/json');
  }

  async remove(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return this.keys(prefix);
  }

  async upload(key: string, body: Readable, options: UploadOptions): Promise<{ bytes: number }> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      const bytes = Buffer.from(chunk as Uint8Array | string);
      options.inspect?.chunk(bytes);
      chunks.push(bytes);
    }
    options.inspect?.end();
    const whole = Buffer.concat(chunks);
    this.objects.set(key, {
      body: whole,
      contentType: options.contentType,
      metadata: { ...options.metadata },
      tags: { ...options.tags },
    });
    return { bytes: whole.length };
  }

  /** Seeds an object, e.g. an export a previous run already wrote. */
  put(key: string, body = '', contentType = 'text/csv'): void {
    this.objects.set(key, { body: Buffer.from(body), contentType, metadata: {}, tags: {} });
  }

  /** The parsed JSON at `key`; throws when there is none, so a test fails with the key in the message. */
  json<T = unknown>(key: string): T {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no object at ${key}; have: ${this.keys('').join(', ') || '(none)'}`);
    return JSON.parse(object.body.toString('utf8')) as T;
  }

  /** Keys under `prefix`, sorted. */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}
