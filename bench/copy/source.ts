// The benchmark's download source: serves files from a folder on loopback, with Content-Length.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

/**
 * `node source.mjs <folder>`: GET /<file> answers the file with Content-Length, read from the page
 * cache in 1 MiB blocks (Node has no sendfile; this is as close as it gets, and its CPU is not counted).
 * Prints the origin, runs until killed.
 */
const folder = process.argv[2];
if (!folder) throw new Error('usage: source.mjs <folder>');
const server = createServer((req, res) => {
  const name = basename(new URL(req.url ?? '/', 'http://source').pathname);
  const path = join(folder, name);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/csv', 'content-length': size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(path, { highWaterMark: 1024 * 1024 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
