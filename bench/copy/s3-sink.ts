// A discard-everything S3 endpoint for benchmarks: multipart and single uploads, CRC32 checked, bytes dropped.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { crc32Base64, crc32Combine } from '#storage/checksum';

/** What the sink saw of one completed object. */
export interface SunkObject {
  bytes: number;
  /** The whole object's CRC32 (base64), computed by the sink from the bytes it received. */
  crc32: string;
  /** Request headers of the object's uploads (PutObject or every UploadPart), for tests. */
  headers: Array<Record<string, string | string[] | undefined>>;
}

export interface S3Sink {
  readonly endpoint: string;
  readonly objects: Map<string, SunkObject>;
  /** TCP connections accepted so far (a client that reuses its connections opens few). */
  readonly connections: number;
  close(): Promise<void>;
}

interface Upload {
  parts: Map<number, { bytes: number; crc: number }>;
  headers: SunkObject['headers'];
}

/**
 * S3 on loopback that keeps nothing but counts: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload and PutObject (path-style), bodies plain or aws-chunked (with a checksum trailer).
 * Like S3 it answers 400 BadDigest when a part's or the whole object's CRC32 does not match the bytes. Any
 * credentials are accepted; signatures are not checked. HEAD of an uploaded object gives its size; GET is a
 * 404 (nothing is kept).
 */
export async function startS3Sink(port = 0): Promise<S3Sink> {
  const uploads = new Map<string, Upload>();
  const objects = new Map<string, SunkObject>();
  let next = 0;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        xml(res, 500, `<Error><Code>InternalError</Code><Message>${String(err)}</Message></Error>`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sink');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const uploadId = url.searchParams.get('uploadId');
    const id = `${bucket}/${key}`;
    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      const upload = `u${++next}`;
      uploads.set(upload, { parts: new Map(), headers: [] });
      return xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${upload}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === 'PUT' && key) {
      const body = await receive(req);
      if (body.expected !== undefined && body.expected !== crc32Base64(body.crc)) return badDigest(res);
      const partNumber = Number(url.searchParams.get('partNumber'));
      if (uploadId) {
        const upload = uploads.get(uploadId);
        if (!upload) return xml(res, 404, '<Error><Code>NoSuchUpload</Code></Error>');
        upload.parts.set(partNumber, { bytes: body.bytes, crc: body.crc });
        upload.headers.push(req.headers);
      } else {
        objects.set(id, { bytes: body.bytes, crc32: crc32Base64(body.crc), headers: [req.headers] });
      }
      res.writeHead(200, {
        etag: `"${crc32Base64(body.crc)}-${body.bytes}"`,
        'x-amz-checksum-crc32': crc32Base64(body.crc),
      });
      return void res.end();
    }
    if (req.method === 'POST' && uploadId) {
      const upload = uploads.get(uploadId);
      const text = (await receive(req, true)).text ?? '';
      if (!upload) return xml(res, 404, '<Error><Code>NoSuchUpload</Code></Error>');
      const numbers = [...text.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      let crc = 0;
      let bytes = 0;
      for (const n of numbers) {
        const part = upload.parts.get(n);
        if (!part) return xml(res, 400, '<Error><Code>InvalidPart</Code></Error>');
        crc = crc32Combine(crc, part.crc, part.bytes);
        bytes += part.bytes;
      }
      const full = crc32Base64(crc);
      const claimed = req.headers['x-amz-checksum-crc32'];
      if (typeof claimed === 'string' && claimed !== full) return badDigest(res);
      const size = req.headers['x-amz-mp-object-size'];
      if (typeof size === 'string' && Number(size) !== bytes)
        return xml(res, 400, '<Error><Code>InvalidRequest</Code></Error>');
      uploads.delete(uploadId);
      objects.set(id, { bytes, crc32: full, headers: upload.headers });
      const checksum =
        typeof claimed === 'string'
          ? `<ChecksumCRC32>${full}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType>`
          : '';
      return xml(
        res,
        200,
        `<CompleteMultipartUploadResult><Location>http://sink/${id}</Location><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"${full}-${numbers.length}"</ETag>${checksum}</CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'DELETE' && uploadId) {
      uploads.delete(uploadId);
      res.writeHead(204);
      return void res.end();
    }
    await receive(req);
    const object = objects.get(id);
    if (req.method === 'HEAD' && object) {
      // What a client checks after an upload (rclone does): the size, and an ETag that is no MD5.
      res.writeHead(200, {
        'content-length': object.bytes,
        etag: `"${Buffer.from(object.crc32, 'base64').toString('hex').padEnd(32, '0')}-1"`,
        'last-modified': new Date().toUTCString(),
        'content-type': 'text/csv',
      });
      return void res.end();
    }
    if (!key)
      return xml(
        res,
        200,
        `<ListBucketResult><Name>${bucket}</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
    return xml(res, 404, '<Error><Code>NoSuchKey</Code><Message>The sink keeps nothing</Message></Error>');
  }

  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    objects,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function badDigest(res: ServerResponse): void {
  xml(
    res,
    400,
    '<Error><Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message></Error>',
  );
}

/**
 * Reads a request body, decoding aws-chunked framing when present: its bytes, their CRC32 and the
 * CRC32 the client claimed (header or trailer), or the whole text (small XML bodies).
 */
async function receive(
  req: IncomingMessage,
  asText = false,
): Promise<{ bytes: number; crc: number; expected?: string; text?: string }> {
  const chunked =
    String(req.headers['content-encoding'] ?? '').includes('aws-chunked') ||
    String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
  const header = req.headers['x-amz-checksum-crc32'];
  let expected = typeof header === 'string' ? header : undefined;
  let bytes = 0;
  let crc = 0;
  const texts: Buffer[] = [];
  const data = (chunk: Buffer) => {
    bytes += chunk.length;
    crc = crc32(chunk, crc);
    if (asText) texts.push(chunk);
  };
  if (!chunked) {
    for await (const chunk of req as AsyncIterable<Buffer>) data(chunk);
  } else {
    // aws-chunked: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`.
    let pending: Buffer = Buffer.alloc(0);
    let left = 0; // data bytes left in the current chunk, then its CRLF
    let inData = false;
    let done = false;
    for await (const incoming of req as AsyncIterable<Buffer>) {
      let buf: Buffer = pending.length ? Buffer.concat([pending, incoming]) : incoming;
      pending = Buffer.alloc(0);
      while (buf.length > 0) {
        if (inData) {
          const n = Math.min(left, buf.length);
          if (n > 0) data(buf.subarray(0, n));
          left -= n;
          buf = buf.subarray(n);
          if (left === 0) {
            if (buf.length < 2) {
              pending = buf;
              break;
            }
            buf = buf.subarray(2);
            inData = false;
          }
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol === -1) {
          pending = buf;
          break;
        }
        const line = buf.subarray(0, eol).toString('latin1');
        buf = buf.subarray(eol + 2);
        if (done) {
          const trailer = /^x-amz-checksum-crc32:(.*)$/i.exec(line);
          if (trailer?.[1]) expected = trailer[1].trim();
          continue;
        }
        const size = Number.parseInt(line.split(';')[0] ?? '', 16);
        if (size === 0) done = true;
        else {
          left = size;
          inData = true;
        }
      }
    }
  }
  return {
    bytes,
    crc,
    ...(expected !== undefined && { expected }),
    ...(asText && { text: Buffer.concat(texts).toString('utf8') }),
  };
}

// `node s3-sink.mjs [port]`: runs the sink until killed, printing its endpoint.
if (process.argv[1]?.match(/s3-sink\.(ts|mjs)$/)) {
  const sink = await startS3Sink(Number(process.argv[2] ?? 0));
  console.log(sink.endpoint);
  process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
}
