// Has V8 compile the HTTP parser of our downloads and of Node's fetch (llhttp, WebAssembly) with its baseline compiler only.
import v8 from 'node:v8';

let applied = false;

/**
 * undici, ours (downloads) and the one inside Node (`fetch`: the LinkedIn API, OAuth), parses HTTP/1.1
 * with llhttp, a WebAssembly module each compiles on its first connection. V8 compiles it with its
 * baseline compiler (Liftoff), then, once the parse loop is hot, again with its optimizing one
 * (TurboFan) on a background thread: about 0.3 CPU s and 35 MiB per parser and process, more than a
 * small export's whole copy, and Node waits for that compile before it exits. The parsers read only
 * status lines, headers and body lengths (bodies are handed on as views of the socket reads), for
 * which baseline code is plenty.
 *
 * Call before a first request. V8 reads the flag whenever it compiles WebAssembly, so it holds for
 * the modules compiled after it (V8 flags cannot go in Lambda's NODE_OPTIONS, hence at run time).
 */
export function compileHttpParsersWithBaselineOnly(): void {
  if (applied) return;
  v8.setFlagsFromString('--liftoff-only');
  applied = true;
}
