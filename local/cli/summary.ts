// The end of a local run: the summary table (or JSON), the run lines, and the exit code.
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
  /** Why the CLI itself stopped an ABORTED run (instead of the user's Ctrl-C). */
  stoppedBecause?: string,
): number {
  const json = args.output === 'json';
  // In JSON mode stdout carries only the JSON document; the words go to stderr.
  const say = json ? io.err : io.out;
  const items = results.flatMap((r) => r.manifest?.items ?? []);
  if (items.length && !json) io.out(table(items));
  let code: number = EXIT.ok;
  for (const { result, manifest } of results) {
    if (manifest) {
      const s = manifest.summary;
      const stopped =
        result.status === 'ABORTED'
          ? `, ${s.notStarted ?? 0} not started, ${s.interrupted ?? 0} interrupted`
          : '';
      say(
        `Run ${result.runId}: ${s.exported} exported, ${s.skipped} skipped${s.heldByAnotherRun ? ` (${s.heldByAnotherRun} held by another run)` : ''}, ${s.failed} failed${stopped}, ${s.rows} rows, ${formatBytes(s.bytes)}.`,
      );
      for (const crm of manifest.crmItems ?? []) {
        say(
          crm.status === 'EXPORTED'
            ? `CRM ${crm.crmInstance}: EXPORTED ${crm.parts.length} part(s), ${crm.rows} rows, ${formatBytes(crm.bytes)}; cursor ${crm.cursor}.`
            : `CRM ${crm.crmInstance}: FAILED (${crm.error?.name}: ${crm.error?.message}); the cursor is kept.`,
        );
      }
      say(`Manifest: ${join(store.location, `manifests/${result.runId}.json`)}`);
    }
    if (result.status === 'ABORTED' && stoppedBecause) {
      io.err(`error: run ${result.runId} stopped: ${stoppedBecause}`);
      code = EXIT.usage;
    } else if (result.status === 'ABORTED') {
      io.err(
        `Run ${result.runId} was interrupted; what finished is in ${store.location}${manifest ? ' and the manifest lists what did not' : ''}. ` +
          'Run the same command again to export exactly the rest.',
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
    say(`Files: ${join(store.location, 'sales-navigator/')}<dataset>/contract=<id>/window=<start>_<end>/`);
  }
  const crmItems = results.flatMap((r) => r.manifest?.crmItems ?? []);
  if (crmItems.some((i) => i.status === 'EXPORTED')) {
    say(
      `CRM files: ${join(store.location, 'crm-data-validation/')}instance=<key>/export=<startAt>_<endAt>/part-NNNN.csv`,
    );
  }
  if (args.demo && code === EXIT.ok) {
    say(
      `Demo done: the CSV files and the manifest are in ${store.location} (made-up data from the emulator).`,
    );
  }
  if (json) {
    const interrupted = results.some((r) => r.result.status === 'ABORTED');
    io.out(
      JSON.stringify({
        status: interrupted ? 'INTERRUPTED' : code === EXIT.ok ? 'SUCCEEDED' : 'FAILED',
        exitCode: code,
        destination: store.location,
        runs: results.map(({ result, manifest }) => ({
          runId: result.runId,
          status: result.status,
          ...(manifest && {
            manifest: join(store.location, `manifests/${result.runId}.json`),
            summary: manifest.summary,
          }),
          ...(result.error && { error: result.error }),
        })),
        items,
        ...(crmItems.length > 0 && { crmItems }),
      }),
    );
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
    `[${i.window.start}, ${i.window.end})`,
    i.rows === undefined ? '' : String(i.rows),
    i.bytes === undefined ? '' : formatBytes(i.bytes),
    i.error
      ? `${i.error.name}: ${i.error.message}`
      : i.heldBy
        ? `held by run ${i.heldBy} (exporting it): ${i.key}`
        : i.key,
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
