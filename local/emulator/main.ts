/**
 * `npm run emulator -- [--port N] [--token T] [--contract-urns documented|seed]`: runs the LinkedIn
 * emulator until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { CONTRACT_URN_STYLES, startEmulator } from './server.ts';

const USAGE =
  'usage: npm run emulator -- [--port <0-65535>] [--token <8-512 visible ASCII characters>] ' +
  '[--contract-urns documented|seed]  (documented: urn:li:contract:<id>, the default; seed: urn:li:salesContract:<id>)';

const FlagsSchema = z
  .object({
    port: z
      .string()
      .regex(/^\d{1,5}$/, 'must be a number')
      .transform(Number)
      .pipe(z.number().max(65_535, 'must be at most 65535'))
      .optional(),
    token: z
      .string()
      .regex(/^[\x21-\x7e]{8,512}$/, 'must be 8-512 visible ASCII characters')
      .optional(),
    'contract-urns': z.enum(CONTRACT_URN_STYLES).optional(),
    help: z.boolean().optional(),
  })
  .strict();

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

function readFlags(argv: string[]): z.output<typeof FlagsSchema> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        token: { type: 'string' },
        'contract-urns': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`--${issue?.path.join('.') ?? '?'} ${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}

const flags = readFlags(process.argv.slice(2));
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const emulator = await startEmulator({
  port: flags.port,
  token: flags.token,
  contractUrns: flags['contract-urns'],
}).catch((err: Error) => fail(`cannot start the emulator: ${err.message}`));

console.log(`LinkedIn emulator listening on ${emulator.url}`);
console.log(`Access token: ${emulator.token}`);
console.log(
  `Point the exporter at it: LINKEDIN_ACCESS_TOKEN=${emulator.token} npm run export -- --local --api-url ${emulator.url} --allow-download-host 127.0.0.1:${new URL(emulator.url).port}`,
);
console.log('Press Ctrl+C to stop.');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
