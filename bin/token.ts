#!/usr/bin/env -S npx tsx
// `npm run token`: the token CLI entry point (login, status); wires stdout, stderr and stdin.
import { tokenMain } from '#local/cli/token';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await tokenMain(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
