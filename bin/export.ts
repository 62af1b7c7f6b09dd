#!/usr/bin/env -S npx tsx
// `npm run export`: the CLI entry point; wires stdout, stderr, the TTY progress line and Ctrl-C.
import { main } from '#local/cli/main';

// The AWS SDK warns on every run under Node 20 (supported here; Lambda runs Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// First Ctrl-C (or SIGTERM): stop cleanly (no new LinkedIn job, downloads cancelled, the manifest
// written); the CLI says what it does. A second one exits at once (exit 130) without any of that.
const controller = new AbortController();
const onSignal = (signal: NodeJS.Signals): void => {
  if (controller.signal.aborted) {
    process.stderr.write(`\n${signal} again: exiting now; the manifest of this run is not written.\n`);
    process.exit(130);
  }
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const tty = process.stderr.isTTY;
const code = await main(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: tty
    ? (line) => process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`)
    : undefined,
  signal: controller.signal,
});
if (tty) process.stderr.write('\n');
process.exitCode = code;
