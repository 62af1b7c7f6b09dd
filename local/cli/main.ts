// `npm run export`: parses the command line, picks the mode, and turns every failure into a message and an exit code.
import { errorInfo, NamedError, printableText } from '#common/errors';
import { logger } from '#common/powertools';
import { parseCli, parseCoverageCli, USAGE } from './args.ts';
import { runInAws } from './aws-run.ts';
import { runCoverage } from './coverage.ts';
import { runLocal } from './local-run.ts';
import { type Args, type CliIo, EXIT, exitCodeOf, UsageError } from './types.ts';

export { USAGE } from './args.ts';
export { followExecution } from './aws-run.ts';
export { type CliIo, EXIT } from './types.ts';

/**
 * The output channels with every line made printable: text from LinkedIn (an error message, a job
 * detail) or from a manifest an older version wrote reaches the terminal with its control and bidi
 * characters escaped, so an ANSI sequence can never rewrite what the user reads. Line breaks we
 * print ourselves are kept. JSON output is unchanged in meaning (`\u001b` is a JSON escape).
 */
export function printableIo(io: CliIo): CliIo {
  const safe = (text: string) =>
    text
      .split('\n')
      .map((line) => printableText(line, Number.MAX_SAFE_INTEGER))
      .join('\n');
  return {
    ...io,
    out: (line) => io.out(safe(line)),
    err: (line) => io.err(safe(line)),
    ...(io.progress && { progress: (line: string) => io.progress?.(safe(line)) }),
  };
}

/** Runs the CLI; returns the exit code. Never calls `process.exit` (the caller does). */
export async function main(argv: string[], env: NodeJS.ProcessEnv, rawIo: CliIo): Promise<number> {
  const io = printableIo(rawIo);
  if (argv[0] === 'coverage') return coverageCommand(argv.slice(1), env, io);
  let args: Args | 'help';
  try {
    args = parseCli(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    io.err('Run with --help for usage.');
    return EXIT.usage;
  }
  if (args === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  logger.setLogLevel(env.POWERTOOLS_LOG_LEVEL === undefined ? 'SILENT' : (env.POWERTOOLS_LOG_LEVEL as never));
  try {
    return args.local ? await runLocal(args, env, io) : await runInAws(args, env, io);
  } catch (err) {
    if (err instanceof UsageError || isConfigurationError(err)) {
      io.err(`error: ${(err as Error).message}`);
      return EXIT.usage;
    }
    // A failure outside a run (a 401 while counting contracts, AWS credentials or region missing in AWS
    // mode, an unreachable S3 endpoint): a message and exit 1, not a stack trace. DEBUG=1 shows the stack.
    const info = errorInfo(err);
    io.err(`error: ${info.name}: ${info.message}`);
    if (env.DEBUG && err instanceof Error && err.stack) io.err(err.stack);
    return err instanceof NamedError ? exitCodeOf(info) : EXIT.failed;
  }
}

/** `npm run export -- coverage ...`: the report, with the same error handling and exit code 2 as a run. */
async function coverageCommand(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  try {
    const args = parseCoverageCli(argv);
    if (args === 'help') {
      io.out(USAGE);
      return EXIT.ok;
    }
    logger.setLogLevel(
      env.POWERTOOLS_LOG_LEVEL === undefined ? 'SILENT' : (env.POWERTOOLS_LOG_LEVEL as never),
    );
    return await runCoverage(args, env, io);
  } catch (err) {
    if (err instanceof UsageError || isConfigurationError(err)) {
      io.err(`error: ${(err as Error).message}`);
      if (err instanceof UsageError) io.err('Run with --help for usage.');
      return EXIT.usage;
    }
    const info = errorInfo(err);
    io.err(`error: ${info.name}: ${info.message}`);
    return EXIT.failed;
  }
}

function isConfigurationError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ConfigurationError' || err.name === 'InvalidInputError');
}
