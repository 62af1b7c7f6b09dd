// AWS mode: start the deployed ExportRun, follow it, and halve a range PlanRun finds too large.
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { addDays, daysBetween } from '#common/days';
import type { ErrorInfo } from '#common/errors';
import { MAX_WINDOW_DAYS, type RunInput } from '#steps/plan';
import { newRunId } from '../executor.ts';
import { type Args, type CliIo, EXIT, exitCodeOf, UsageError } from './types.ts';

export /** AWS mode: start the deployed ExportRun with the same input and follow it to the end. */
async function runInAws(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const arn = args.stateMachineArn as string;
  const region = /^arn:aws[\w-]*:states:([\w-]+):\d{12}:stateMachine:[\w-]{1,80}$/.exec(arn)?.[1];
  if (!region) throw new UsageError(`--state-machine-arn: not a state machine ARN: ${arn}`);
  // The state machine's own region, whatever the profile's default is.
  const client = new SFNClient({ region });
  return followExecution(client, arn, args.input, io, Number(env.EXPORT_POLL_MS ?? 10_000));
}

/**
 * Starts ExportRun with `input` and follows it. A range PlanRun refuses as too large for one run
 * (PlanTooLargeError: the CLI cannot count the contracts without the token) is halved on a 90-day
 * boundary and the halves run one after the other, never truncated.
 */
export async function followExecution(
  client: SFNClient,
  stateMachineArn: string,
  input: RunInput,
  io: CliIo,
  pollMs = 10_000,
): Promise<number> {
  const pending = [input];
  let code: number = EXIT.ok;
  for (let next = pending.shift(); next; next = pending.shift()) {
    const outcome = await startAndFollow(client, stateMachineArn, next, io, pollMs);
    const halves = outcome.error?.name === 'PlanTooLargeError' ? halveRange(next) : undefined;
    if (halves) {
      io.err(`The range ${next.from}..${next.to} is too large for one run: running it in two halves.`);
      pending.unshift(...halves);
      continue;
    }
    code = Math.max(code, outcome.code);
    if (outcome.code !== EXIT.ok && outcome.error?.name !== 'RunIncompleteError') break;
  }
  return code;
}

/** `[from, to)` split in two at a 90-day window boundary, or undefined when it is a single window. */
function halveRange(input: RunInput): [RunInput, RunInput] | undefined {
  if (!input.from || !input.to) return undefined;
  const windows = Math.ceil(daysBetween(input.from, input.to) / MAX_WINDOW_DAYS);
  if (windows < 2) return undefined;
  const middle = addDays(input.from, Math.floor(windows / 2) * MAX_WINDOW_DAYS);
  return [
    { ...input, to: middle },
    { ...input, from: middle },
  ];
}

async function startAndFollow(
  client: SFNClient,
  stateMachineArn: string,
  input: RunInput,
  io: CliIo,
  pollMs: number,
): Promise<{ code: number; error?: ErrorInfo }> {
  const name = newRunId().replace(/^local-/, 'cli-');
  const started = await client.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  const executionArn = started.executionArn as string;
  io.err(`Started ${executionArn}`);
  let last = '';
  for (;;) {
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== last) {
      io.err(`Execution ${name}: ${d.status}`);
      last = d.status ?? '';
    }
    if (d.status === 'SUCCEEDED') {
      io.out(d.output ?? '');
      return { code: EXIT.ok };
    }
    if (d.status && d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      const error: ErrorInfo = { name: d.error ?? d.status, message: d.cause ?? '' };
      io.err(
        `error: execution ${name} ${d.status}: ${error.name}${error.message ? `: ${error.message}` : ''}`,
      );
      return { code: exitCodeOf(error), error };
    }
    if (io.signal?.aborted) {
      io.err(`Stopped following ${executionArn}; it keeps running in AWS.`);
      return { code: EXIT.failed };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
