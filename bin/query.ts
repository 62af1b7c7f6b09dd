#!/usr/bin/env -S npx tsx
// `npm run query`: the query CLI entry point; wires stdout and stderr.
import { runQueryCli } from '#local/query/main';

process.exitCode = await runQueryCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
