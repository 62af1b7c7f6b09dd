// The CLI's shared vocabulary: exit codes, the parsed arguments, the output channels, the usage error.
import type { ErrorInfo } from '#common/errors';
import type { RunInput } from '#steps/plan';

/**
 * `npm run export`: the public command line. Flags and exit codes are a stable interface:
 *   0  every item EXPORTED or SKIPPED
 *   1  at least one item FAILED (the manifest is still written), or the run itself failed
 *   2  bad arguments or configuration
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Rewrites the current progress line (TTY) or prints it (otherwise). */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

/** A bad flag or flag combination: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

/** The parsed command line (see `parseCli` in args.ts). */
export interface Args {
  local: boolean;
  demo: boolean;
  /** Local run against the built-in emulator (`--emulator`, or `--demo`). */
  emulator: boolean;
  apiUrl?: string;
  dest: string;
  input: RunInput;
  allowHosts: string[];
  timeScale?: number;
  /** Local runs: lanes exported at once (`--concurrency`); the deployed stack uses `mapConcurrency`. */
  concurrency?: number;
  stateMachineArn?: string;
  /** `--stop EXECUTION_ARN`: stop that execution instead of starting one. */
  stopExecutionArn?: string;
  /** AWS mode: start the execution and return without following it. */
  noWait: boolean;
  output: 'text' | 'json';
  quiet: boolean;
}

/** Exit code for a failed run or step: 2 when the input or configuration was at fault, 1 otherwise. */
export function exitCodeOf(error: ErrorInfo | undefined): number {
  return error?.name === 'InvalidInputError' || error?.name === 'ConfigurationError'
    ? EXIT.usage
    : EXIT.failed;
}
