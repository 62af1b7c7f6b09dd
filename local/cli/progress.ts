// Live progress of a local run: items done, jobs queued / processing, next poll, retries; TTY line or log lines.
import { itemId } from '#storage/keys';
import type { ProgressEvent } from '../executor.ts';
import type { CliIo } from './types.ts';

/**
 * Live progress. On a TTY (`io.progress`) one line is rewritten: counts, jobs queued / processing and
 * the next poll, refreshed every second during long waits. Otherwise a line per event: each job
 * status change with the next poll, each retry, each item finished.
 */
export class Progress {
  private total = 0;
  private exported = 0;
  private failed = 0;
  private bytes = 0;
  private retries = 0;
  /** Job status per item still under way, and when its next step is due (epoch ms). */
  private readonly pending = new Map<string, { status: string; dueAt?: number }>();
  private ticker: NodeJS.Timeout | undefined;
  private lastDetail = '';

  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  on(event: ProgressEvent): void {
    switch (event.type) {
      case 'planned':
        this.total = event.toExport;
        this.io.err(
          `Run ${event.runId}: ${event.planned} item(s) planned, ${event.skipped} already exported (skipped), ${event.toExport} to export.`,
        );
        return;
      case 'split':
        this.total += event.halves - 1;
        this.pending.delete(itemId(event.item));
        this.line(
          `${describe(event.item)} is over LinkedIn's file limit: exporting it in ${event.halves} parts`,
        );
        return;
      case 'exported':
        this.exported++;
        this.bytes += event.bytes;
        this.pending.delete(itemId(event.item));
        this.line(`${describe(event.item)} exported (${event.rows} rows, ${formatBytes(event.bytes)})`);
        return;
      case 'failed':
        this.failed++;
        this.pending.delete(itemId(event.item));
        this.line(`${describe(event.item)} FAILED: ${event.error.name}: ${event.error.message}`);
        return;
      case 'status': {
        const dueAt = event.nextInSeconds === undefined ? undefined : this.now() + event.nextInSeconds * 1000;
        const id = itemId(event.item);
        const changed = this.pending.get(id)?.status !== event.status;
        this.pending.set(id, { status: event.status, ...(dueAt !== undefined && { dueAt }) });
        const next =
          event.nextInSeconds === undefined ? '' : `, next poll in ${formatSeconds(event.nextInSeconds)}`;
        // Without a TTY only changes are printed (every poll of an hours-long job would be noise).
        if (this.io.progress || changed) {
          this.line(`${describe(event.item)}: job ${event.jobId ?? '?'} ${event.status}${next}`);
        }
        this.tick();
        return;
      }
      case 'retry':
        this.retries++;
        this.line(`retrying ${event.state} after ${event.error} (attempt ${event.attempt})`);
        return;
    }
  }

  /** Counts of jobs per status and the soonest next poll, e.g. "2 ENQUEUED, 1 PROCESSING, next poll in 12 s". */
  waiting(): string {
    const counts = new Map<string, number>();
    let soonest: number | undefined;
    for (const { status, dueAt } of this.pending.values()) {
      counts.set(status, (counts.get(status) ?? 0) + 1);
      if (dueAt !== undefined && (soonest === undefined || dueAt < soonest)) soonest = dueAt;
    }
    const parts = [...counts].map(([status, n]) => `${n} ${status}`);
    if (soonest !== undefined)
      parts.push(`next poll in ${formatSeconds(Math.max(0, (soonest - this.now()) / 1000))}`);
    return parts.join(', ');
  }

  private line(detail: string): void {
    if (this.quiet) return;
    this.lastDetail = detail;
    (this.io.progress ?? this.io.err)(this.render(detail));
  }

  private render(detail: string): string {
    const done = this.exported + this.failed;
    const waiting = this.waiting();
    const retries = this.retries ? `, ${this.retries} retries` : '';
    return `[${done}/${this.total}] ${this.exported} exported, ${this.failed} failed${retries}, ${formatBytes(this.bytes)}${
      waiting ? ` (jobs: ${waiting})` : ''
    } — ${detail}`;
  }

  /** On a TTY, refresh the line every second while jobs wait, so the countdown moves. */
  private tick(): void {
    if (this.quiet || !this.io.progress || this.ticker) return;
    this.ticker = setInterval(() => this.io.progress?.(this.render(this.lastDetail)), 1000);
    this.ticker.unref();
  }

  done(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (!this.quiet && this.io.progress) this.io.progress('');
  }
}

function describe(item: { contract: string; dataset: string; start: string; end: string }): string {
  return `${item.dataset} ${item.contract} [${item.start}, ${item.end})`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
