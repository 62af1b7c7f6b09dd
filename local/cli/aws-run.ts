// AWS mode: start the deployed ExportRun, follow it, and halve a range PlanRun finds too large.
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { addDays, daysBetween } from '#common/days';
import type { ErrorInfo } from '#common/errors';
import { MAX_WINDOW_DAYS, type RunInput } from '#steps/plan';
import { describeAwsError } from '../aws-errors.ts';
import { newRunId } from '../executor.ts';
import { type Args, type CliIo, EXIT, exitCodeOf, UsageError } from './types.ts';

export /** AWS mode: start the deployed ExportRun with the same input and follow it to the end. */
async function runInAws(args: Args, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (args.stopExecutionArn) return stopExecution(args.stopExecutionArn, io);
  const arn = args.stateMachineArn as string;
  const region = /^arn:aws[\w-]*:states:([\w-]+):\d{12}:stateMachine:[\w-]{1,80}$/.exec(arn)?.[1];
  if (!region) throw new UsageError(`--state-machine-arn: not a state machine ARN: ${arn}`);
  // The state machine's own region, whatever the profile's default is.
  const client = await checkedClient(region);
  return followExecution(client, arn, args.input, io, Number(env.EXPORT_POLL_MS ?? 10_000), {
    noWait: args.noWait,
    json: args.output === 'json',
  });
}

/** `--stop EXECUTION_ARN`: StopExecution, then the execution's final status. */
async function stopExecution(executionArn: string, io: CliIo): Promise<number> {
  const region = /^arn:aws[\w-]*:states:([\w-]+):\d{12}:execution:[\w-]{1,80}:[\w-]{1,80}$/.exec(
    executionArn,
  )?.[1];
  if (!region) throw new UsageError(`--stop: not an execution ARN: ${executionArn}`);
  const client = await checkedClient(region);
  await sendTranslated(
    client,
    new StopExecutionCommand({ executionArn, cause: 'stopped from the CLI (--stop)' }),
    region,
  );
  io.err(`Stopped ${executionArn}. Items already exported stay; a new run exports the rest.`);
  return EXIT.ok;
}

/** An SFN client whose credentials are known to resolve: checked before any AWS call. */
async function checkedClient(region: string): Promise<SFNClient> {
  const client = new SFNClient({ region });
  try {
    await client.config.credentials();
  } catch (err) {
    const message = describeAwsError(err, {
      service: 'Step Functions',
      resource: `states.${region}.amazonaws.com`,
    });
    if (message) throw Object.assign(new Error(message), { name: 'ConfigurationError' });
    throw err;
  }
  return client;
}

/** Sends `command`; an AWS or network error comes back as one sentence naming the fix. */
async function sendTranslated<T>(client: SFNClient, command: never | object, region: string): Promise<T> {
  try {
    return (await client.send(command as never)) as T;
  } catch (err) {
    const message = describeAwsError(err, {
      service: 'Step Functions',
      resource: `states.${region}.amazonaws.com`,
    });
    if (!message) throw err;
    const configuration = !/^cannot reach/.test(message);
    throw Object.assign(new Error(message), {
      name: configuration ? 'ConfigurationError' : 'AwsTransientError',
    });
  }
}

/** The execution's page in the Step Functions console. */
export function consoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
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
  options: { noWait?: boolean; json?: boolean } = {},
): Promise<number> {
  const pending = [input];
  let code: number = EXIT.ok;
  for (let next = pending.shift(); next; next = pending.shift()) {
    const outcome = await startAndFollow(client, stateMachineArn, next, io, pollMs, options);
    if (outcome.stopped) return outcome.code;
    const halves = outcome.error?.name === 'PlanTooLargeError' ? halveRange(next) : undefined;
    if (halves) {
      io.err(`The range [${next.from}, ${next.to}) is too large for one run: running it in two halves.`);
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
  options: { noWait?: boolean; json?: boolean },
): Promise<{ code: number; error?: ErrorInfo; stopped?: boolean }> {
  const name = newRunId().replace(/^local-/, 'cli-');
  const region = stateMachineArn.split(':')[3] ?? '';
  const started = await sendTranslated<{ executionArn?: string }>(
    client,
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    region,
  );
  const executionArn = started.executionArn as string;
  io.err(`Started ${executionArn}`);
  io.err(`Console: ${consoleUrl(executionArn)}`);
  if (options.noWait) {
    if (options.json)
      io.out(JSON.stringify({ executionArn, consoleUrl: consoleUrl(executionArn), status: 'RUNNING' }));
    io.err(`Not following it (--no-wait). Stop it with: npm run export -- --stop ${executionArn}`);
    return { code: EXIT.ok, stopped: true };
  }
  let last = '';
  for (;;) {
    const d = await sendTranslated<{ status?: string; output?: string; error?: string; cause?: string }>(
      client,
      new DescribeExecutionCommand({ executionArn }),
      region,
    );
    if (d.status !== last) {
      io.err(`Execution ${name}: ${d.status}`);
      last = d.status ?? '';
    }
    if (d.status === 'SUCCEEDED') {
      io.out(
        options.json
          ? JSON.stringify({ executionArn, status: d.status, output: parseOutput(d.output) })
          : (d.output ?? ''),
      );
      return { code: EXIT.ok };
    }
    if (d.status && d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      const error: ErrorInfo = { name: d.error ?? d.status, message: d.cause ?? '' };
      io.err(
        `error: execution ${name} ${d.status}: ${error.name}${error.message ? `: ${error.message}` : ''}`,
      );
      if (options.json) io.out(JSON.stringify({ executionArn, status: d.status, error }));
      return { code: exitCodeOf(error), error };
    }
    if (io.signal?.aborted || (await sleepUnlessAborted(pollMs, io.signal))) {
      io.err(
        `Stopped following ${executionArn}; it keeps running in AWS (${consoleUrl(executionArn)}). ` +
          `To stop it: npm run export -- --stop ${executionArn}`,
      );
      return { code: EXIT.failed, stopped: true };
    }
  }
}

/** Waits `ms`; resolves true at once when `signal` fires first. */
function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseOutput(output: string | undefined): unknown {
  try {
    return output === undefined ? undefined : JSON.parse(output);
  } catch {
    return output;
  }
}
