// npm run build: the package another CDK app installs (dist/): the construct as JavaScript, its .d.ts, pre-bundled Lambda code.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_BUNDLE_OPTIONS } from '#lib/constructs/export-function';

/**
 * dist/index.js      lib/index.ts bundled by esbuild (ESM, Node 20): no `#alias` import is left, and the
 *                    few lambdas/ modules the construct reads constants from are inlined; aws-cdk-lib,
 *                    constructs and zod stay imports (peer dependencies and the one dependency).
 * dist/lambda-assets/<handler>/index.mjs
 *                    every handler bundled as ExportFunction bundles it at synthesis (same esbuild options);
 *                    the construct deploys these as they are, so the consumer needs no esbuild.
 * dist/types/        tsc declarations, with `#alias` and `.ts` specifiers rewritten to relative `.js` ones.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const HANDLERS = join(ROOT, 'lambdas', 'handlers');

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });

rmSync(DIST, { recursive: true, force: true });

await build({
  entryPoints: [join(ROOT, 'lib', 'index.ts')],
  outfile: join(DIST, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'zod', 'zod/*'],
  banner: HANDLER_BUNDLE_OPTIONS.banner,
  logLevel: 'warning',
});

const handlers = files(HANDLERS).filter((f) => f.endsWith('.ts'));
await build({
  ...HANDLER_BUNDLE_OPTIONS,
  mainFields: [...HANDLER_BUNDLE_OPTIONS.mainFields],
  entryPoints: Object.fromEntries(
    handlers.map((f) => [`${relative(HANDLERS, f).slice(0, -'.ts'.length)}/index`, f]),
  ),
  outdir: join(DIST, 'lambda-assets'),
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});

execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);

// `#common/settings` → the relative path of lambdas/common/settings.js from the declaring file.
const aliases = Object.entries(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, string> })
    .imports,
);
function resolveAlias(specifier: string): string | undefined {
  for (const [key, target] of aliases) {
    if (key === specifier) return target;
    if (key.endsWith('*') && specifier.startsWith(key.slice(0, -1)))
      return target.replace('*', specifier.slice(key.length - 1));
  }
  return undefined;
}
const TYPES = join(DIST, 'types');
for (const file of files(TYPES).filter((f) => f.endsWith('.d.ts'))) {
  const source = readFileSync(file, 'utf8');
  const rewritten = source.replace(
    /(from\s+|import\()(['"])([^'"]+)\2/g,
    (_whole, lead, quote, specifier: string) => {
      let target = specifier;
      if (specifier.startsWith('#')) {
        const resolved = resolveAlias(specifier);
        if (!resolved) throw new Error(`${file}: no package.json "imports" entry for ${specifier}`);
        target = relative(dirname(file), join(TYPES, resolved));
        if (!target.startsWith('.')) target = `./${target}`;
      }
      if (target.startsWith('.') && target.endsWith('.ts')) target = `${target.slice(0, -'.ts'.length)}.js`;
      return `${lead}${quote}${target}${quote}`;
    },
  );
  if (rewritten !== source) writeFileSync(file, rewritten);
}
process.stderr.write(`built ${relative(ROOT, DIST)}/: index.js, ${handlers.length} handler bundles, types\n`);
