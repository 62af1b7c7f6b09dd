// The end of a local run: the summary table, the run lines, and the exit code.
import type { Manifest } from '#steps/finish';
import { contractId } from '#storage/keys';
import type { ObjectStore } from '#storage/store';
import type { LocalRunResult } from '../executor.ts';
import { formatBytes } from './progress.ts';
import { type Args, type CliIo, EXIT, exitCodeOf } from './types.ts';

export function report(
  results: { result: LocalRunResult; manifest?: Manifest }[],
  store: ObjectStore,
  args: Args,
  io: CliIo,
): number {
  const items = results.flatMap((r) => r.manifest?.items ?? []);
  if (items.length) io.out(table(items));
  let code: number = EXIT.ok;
  for (const { result, manifest } of results) {
    if (manifest) {
      const s = manifest.summary;
      io.out(
        `Run ${result.runId}: ${s.exported} exported, ${s.skipped} skipped, ${s.failed} failed, ${s.rows} rows, ${formatBytes(s.bytes)}.`,
      );
      io.out(`Manifest: ${join(store.location, `manifests/${result.runId}.json`)}`);
    }
    if (result.status === 'ABORTED') {
      io.err(
        `Run ${result.runId} was interrupted; what finished is in ${store.location}. Run again to resume.`,
      );
      code = EXIT.failed;
    } else if (result.status === 'FAILED') {
      code = Math.max(code, exitCodeOf(result.error));
      if (!manifest || result.error?.name !== 'RunIncompleteError') {
        io.err(`error: run ${result.runId} failed: ${result.error?.name}: ${result.error?.message}`);
      }
    }
  }
  if (items.some((i) => i.status === 'EXPORTED')) {
    io.out(`Files: ${join(store.location, 'sales-navigator/')}<dataset>/contract=<id>/window=<start>_<end>/`);
  }
  if (args.demo && code === EXIT.ok) {
    io.out('Demo done: open the CSV files above, or the manifest, to see what a daily export produces.');
  }
  return code;
}

function join(location: string, key: string): string {
  return `${location.replace(/\/+$/, '')}/${key}`;
}

function table(items: Manifest['items']): string {
  const rows = items.map((i) => [
    i.status,
    i.dataset,
    contractId(i.contract),
    `${i.window.start}..${i.window.end}`,
    i.rows === undefined ? '' : String(i.rows),
    i.bytes === undefined ? '' : formatBytes(i.bytes),
    i.error ? `${i.error.name}: ${i.error.message}` : i.key,
  ]);
  const header = ['STATUS', 'DATASET', 'CONTRACT', 'WINDOW', 'ROWS', 'SIZE', 'KEY / ERROR'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}
