// npm pack → a throwaway CDK app installs the tarball, imports SalesNavigatorExport, type-checks and synthesizes it.
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_MODULES = join(ROOT, 'node_modules');

const CONSUMER = `import { App, Stack } from 'aws-cdk-lib';
import { SalesNavigatorExport, type SalesNavigatorExportProps } from 'salesnav-export';

const props: SalesNavigatorExportProps = { retentionDays: 30, tags: { team: 'data-platform' } };
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
const pipeline = new SalesNavigatorExport(stack, 'SalesNav', props);
app.synth();
process.stdout.write(JSON.stringify({ namePrefix: pipeline.namePrefix, alarms: Object.keys(pipeline.alarms) }));
`;

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });

let pkg: string;
let outdir: string;
let printed: { namePrefix: string; alarms: string[] };
let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(() => {
  const work = mkdtempSync(join(tmpdir(), 'consumer-'));
  // prepack runs `npm run build` (bin/build-package.ts): dist/ with the JavaScript, the types and the Lambda bundles.
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
    }).replace(/^[^[]*/s, ''),
  ) as { filename: string }[];
  const tarball = join(work, packed?.filename ?? '');

  // The throwaway app: the tarball unpacked where npm installs it, and its peers (aws-cdk-lib,
  // constructs) and its one dependency (zod) linked from this repository's node_modules, so the test
  // runs offline. Nothing else: what the package needs beyond these is not there.
  const app = join(work, 'app');
  pkg = join(app, 'node_modules', 'salesnav-export');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  for (const dep of ['aws-cdk-lib', 'constructs', 'zod', '@types']) {
    symlinkSync(join(NODE_MODULES, dep), join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', type: 'module', private: true }),
  );
  writeFileSync(join(app, 'app.ts'), CONSUMER);
  execFileSync(
    process.execPath,
    [
      join(NODE_MODULES, 'typescript', 'bin', 'tsc'),
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      'app.ts',
    ],
    { cwd: app, stdio: 'pipe' },
  );
  outdir = join(work, 'cdk.out');
  printed = JSON.parse(execFileSync(process.execPath, ['app.js', outdir], { cwd: app, encoding: 'utf8' }));
  template = JSON.parse(readFileSync(join(outdir, 'Consumer.template.json'), 'utf8'));
}, 400_000);

describe('the packed construct', () => {
  it('ships JavaScript, declarations and the Lambda bundles, with no #alias import and no TypeScript source', () => {
    const shipped = files(pkg).map((f) => f.slice(pkg.length + 1));
    expect(shipped).toContain('dist/index.js');
    expect(shipped).toContain('dist/types/lib/index.d.ts');
    expect(shipped).toContain('dist/lambda-assets/crm/copy-part/index.mjs');
    expect(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const file of shipped.filter((f) => /\.(js|d\.ts)$/.test(f))) {
      expect({
        file,
        aliases: readFileSync(join(pkg, file), 'utf8').match(/(from\s*|import\()['"]#[^'"]+/g),
      }).toEqual({
        file,
        aliases: null,
      });
    }
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  });

  it('synthesizes in the consumer app, with its resources and its props applied', () => {
    const count = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
    expect(count('AWS::Lambda::Function')).toBe(12); // eleven steps and the WatchRuns watchdog
    expect(count('AWS::StepFunctions::StateMachine')).toBe(3);
    expect(count('AWS::S3::Bucket')).toBe(2);
    expect(count('AWS::SecretsManager::Secret')).toBe(1);
    expect(count('AWS::Scheduler::Schedule')).toBe(2);
    expect(printed).toEqual({
      namePrefix: 'Consumer-SalesNav',
      alarms: [
        'RunFailedAlarm',
        'ItemsFailedAlarm',
        'NoSuccessfulRunAlarm',
        'RunOverdueAlarm',
        'ScheduleDroppedAlarm',
        'TokenExpiresIn14DaysAlarm',
        'TokenExpiresIn7DaysAlarm',
        'TokenExpiresIn1DaysAlarm',
      ],
    });
    const bucket = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('ExpireExports'),
    );
    expect(JSON.stringify(bucket?.Properties)).toContain('"ExpirationInDays":30');
    expect(JSON.stringify(bucket?.Properties)).toContain('"Value":"data-platform"');
  });

  it('deploys the pre-bundled handlers as they are (no esbuild in the consumer app)', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    for (const fn of functions) expect(fn.Properties.Handler).toBe('index.handler');
    const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    expect(assets).toHaveLength(12);
    const bundled = readFileSync(join(pkg, 'dist/lambda-assets/copy-to-s3/index.mjs'));
    expect(assets.some((a) => readFileSync(join(outdir, a, 'index.mjs')).equals(bundled))).toBe(true);
  });
});
