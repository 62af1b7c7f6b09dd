// Live progress of a local run: items done / to do and bytes, on one rewritten line (TTY) or a line per item.
import type { ProgressEvent } from '../executor.ts';
import type { CliIo } from './types.ts';

/** Live progress: items done / to do, bytes, on one rewritten line (TTY) or a line per item. */
export class Progress {
  private total = 0;
  private exported = 0;
  private failed = 0;
  private bytes = 0;
  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
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
        this.line(
          `${describe(event.item)} is over LinkedIn's file limit: exporting it in ${event.halves} parts`,
        );
        return;
      case 'exported':
        this.exported++;
        this.bytes += event.bytes;
        this.line(`${describe(event.item)} exported (${event.rows} rows, ${formatBytes(event.bytes)})`);
        return;
      case 'failed':
        this.failed++;
        this.line(`${describe(event.item)} FAILED: ${event.error.name}: ${event.error.message}`);
        return;
      case 'status':
        return;
    }
  }

  private line(detail: string): void {
    if (this.quiet) return;
    const done = this.exported + this.failed;
    const text = `[${done}/${this.total}] ${this.exported} exported, ${this.failed} failed, ${formatBytes(this.bytes)} — ${detail}`;
    (this.io.progress ?? this.io.err)(text);
  }

  done(): void {
    if (!this.quiet && this.io.progress) this.io.progress('');
  }
}

function describe(item: { contract: string; dataset: string; start: string; end: string }): string {
  return `${item.dataset} ${item.contract} ${item.start}..${item.end}`;
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
