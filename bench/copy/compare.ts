// The copy benchmark: the product's bundled copy against rclone and the AWS CLI, into S3 and a folder.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FUNCTION_RUNTIME_ENVIRONMENT, HANDLER_BUNDLE_OPTIONS } from '#lib/constructs/export-function';

const GiB = 1024 ** 3;
const HERE = fileURLToPath(new URL('.', import.meta.url));
/** Generated files and bundles live here across runs (delete it to regenerate). */
export const CACHE_DIR = join(tmpdir(), 'salesnav-bench-cache');

interface Contestant {
  name: string;
  into: 's3' | 'folder';
  product: boolean;
  /** A shell command; `$URL`, `$S3`, `$BUCKET`, `$KEY`, `$OUT`, `$ROWS` are set in its environment. */
  command: string;
  env?: Record<string, string>;
  /** Why it is skipped, when a tool is missing. */
  missing?: string;
}

interface Sample {
  wall: number;
  cpu: number;
  rssMiB: number;
}

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** An activity export of at least `bytes`: LinkedIn's columns, CRLF, a quoted multi-line field every 1000 rows. */
async function ensureCsv(gib: number): Promise<{ path: string; rows: number; bytes: number }> {
  const path = join(CACHE_DIR, `activity-${gib}GiB.csv`);
  const meta = `${path}.json`;
  if (existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8'));
  const rowsPerBlock = 100_000;
  const lines: string[] = [];
  for (let i = 0; i < rowsPerBlock; i++) {
    const s = i % 86_400;
    const time = `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    const member =
      i % 1000 === 0 ? `"member ${i}, ""vip""\r\nsecond line"` : `mik-${(i * 2654435761) % 4294967296}`;
    const type = ['SAVED_LEAD', 'PROFILE_VIEWED', 'INMAIL_SENT', 'SEARCH_PERFORMED'][i % 4];
    lines.push(`${1_700_000_000_000 + i},${type},10-01-2026 ${time},${100_000 + (i % 5000)},${member}\r\n`);
  }
  const block = Buffer.from(lines.join(''));
  const header = Buffer.from('activityId,activityType,createdAt,seatId,memberIdentityKey\r\n');
  const blocks = Math.ceil((gib * GiB - header.length) / block.length);
  const out = createWriteStream(path);
  out.write(header);
  for (let i = 0; i < blocks; i++)
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  const result = { path, rows: blocks * rowsPerBlock, bytes: statSync(path).size };
  writeFileSync(meta, JSON.stringify(result));
  return result;
}

/**
 * Bundles an entry with the stack's own handler options (ESM, minified, node22, SDK included, source
 * maps without sources: Node keeps a loaded map in memory, so sources in it would inflate peak RSS).
 */
async function bundle(entry: string, name: string): Promise<string> {
  const outfile = join(CACHE_DIR, name);
  await build({
    ...HANDLER_BUNDLE_OPTIONS,
    mainFields: [...HANDLER_BUNDLE_OPTIONS.mainFields],
    entryPoints: [join(HERE, entry)],
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** Starts `node <script> <args>` and resolves with its first stdout line (the address it prints). */
function startServer(script: string, args: string[]): Promise<{ address: string; stop: () => void }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (data: Buffer) =>
      resolve({ address: data.toString().trim().split('\n')[0] ?? '', stop: () => child.kill('SIGTERM') }),
    );
  });
}

/** Runs `command` under GNU time: wall seconds, user+system CPU seconds (children included), peak RSS. */
function measure(command: string, env: Record<string, string>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', 'bash', '-o', 'pipefail', '-c', command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const last = stderr.trim().split('\n').at(-1) ?? '';
      const [user, system, rss] = last.split(' ').map(Number);
      if (code !== 0 || user === undefined || system === undefined || rss === undefined)
        reject(new Error(`"${command}" failed (${code}): ${stderr.slice(-2000)}`));
      else resolve({ wall, cpu: user + system, rssMiB: rss / 1024 });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface CopyBenchOptions {
  sizesGiB: number[];
  runs: number;
}

/**
 * Every contestant copies the same file from the same loopback source, into the same discard S3 sink or
 * a temp folder; runs are interleaved (contestant A, B, C, A, B, C, …) so load from elsewhere hits all
 * alike. Returns printable tables; missing peers are listed as skipped.
 */
export async function copyBenchmark(
  options: CopyBenchOptions,
): Promise<{ title: string; header: string[]; rows: string[][] }[]> {
  if (!existsSync('/usr/bin/time'))
    throw new Error('the copy benchmark needs GNU time (/usr/bin/time): apt-get install time');
  await mkdir(CACHE_DIR, { recursive: true });
  const product = await bundle('product.ts', 'product.mjs');
  const sinkScript = await bundle('s3-sink.ts', 's3-sink.mjs');
  const sourceScript = await bundle('source.ts', 'source.mjs');
  const files = [];
  for (const gib of options.sizesGiB) files.push({ gib, ...(await ensureCsv(gib)) });

  const source = await startServer(sourceScript, [CACHE_DIR]);
  const sink = await startServer(sinkScript, []);
  const out = await mkdtemp(join(tmpdir(), 'bench-copy-out-'));
  const node = `${process.execPath} ${product}`;
  // The product runs in the environment its Lambda function has (source maps, glibc's trim
  // threshold). Lambda runs Node 22: on an older Node the SDK prints a deprecation warning, whose
  // stack (source-mapped) Lambda would never pay for.
  const productEnv = {
    ...FUNCTION_RUNTIME_ENVIRONMENT,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const awsEnv = {
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  const contestants: Contestant[] = [
    {
      name: 'product → S3',
      into: 's3',
      product: true,
      command: `${node} "$URL" "$ROWS" s3 "$S3" "$BUCKET" "$KEY"`,
      env: productEnv,
    },
    {
      name: 'rclone copyurl → S3',
      into: 's3',
      product: false,
      // A CA bundle from the environment is irrelevant on loopback http, and rclone refuses to start with one.
      command: 'env -u AWS_CA_BUNDLE rclone copyurl "$URL" "sink:$BUCKET/$KEY"',
      env: {
        RCLONE_CONFIG_SINK_TYPE: 's3',
        RCLONE_CONFIG_SINK_PROVIDER: 'Other',
        RCLONE_CONFIG_SINK_ENDPOINT: sink.address,
        RCLONE_CONFIG_SINK_ACCESS_KEY_ID: 'bench',
        RCLONE_CONFIG_SINK_SECRET_ACCESS_KEY: 'bench',
        RCLONE_CONFIG_SINK_REGION: 'us-east-1',
        RCLONE_CONFIG_SINK_FORCE_PATH_STYLE: 'true',
      },
      ...(!has('rclone') && { missing: 'rclone is not installed (apt-get install rclone)' }),
    },
    {
      name: 'curl | aws s3 cp - → S3',
      into: 's3',
      product: false,
      command: 'curl -sSf "$URL" | aws s3 cp - "s3://$BUCKET/$KEY" --endpoint-url "$S3" --only-show-errors',
      env: awsEnv,
      ...((!has('aws') || !has('curl')) && {
        missing: 'the AWS CLI or curl is not installed (apt-get install awscli curl)',
      }),
    },
    {
      name: 'product → folder',
      into: 'folder',
      product: true,
      command: `${node} "$URL" "$ROWS" folder "$OUT" "$KEY"`,
      env: productEnv,
    },
    {
      name: 'curl -o → folder',
      into: 'folder',
      product: false,
      command: 'curl -sSf -o "$OUT/$KEY" "$URL"',
      ...(!has('curl') && { missing: 'curl is not installed (apt-get install curl)' }),
    },
  ];
  const tables: { title: string; header: string[]; rows: string[][] }[] = [];
  try {
    for (const file of files) {
      const samples = new Map<string, Sample[]>(contestants.map((c) => [c.name, []]));
      for (let run = 0; run < options.runs; run++) {
        for (const c of contestants) {
          if (c.missing) continue;
          const key = `copy-${run}.csv`;
          const env = {
            URL: `${source.address}/activity-${file.gib}GiB.csv`,
            ROWS: String(file.rows),
            S3: sink.address,
            BUCKET: 'bench',
            KEY: key,
            OUT: out,
            ...c.env,
          };
          samples.get(c.name)?.push(await measure(c.command, env));
          if (c.into === 'folder') {
            const size = statSync(join(out, key)).size;
            if (size !== file.bytes) throw new Error(`${c.name} wrote ${size} of ${file.bytes} bytes`);
            await rm(join(out, key), { force: true });
          }
        }
      }
      const gibs = file.bytes / GiB;
      const stats = contestants.map((c) => {
        const s = samples.get(c.name) ?? [];
        if (s.length === 0) return { c, wall: Number.NaN, cpu: Number.NaN, rss: Number.NaN };
        return {
          c,
          wall: median(s.map((x) => x.wall)),
          cpu: median(s.map((x) => x.cpu)),
          rss: Math.max(...s.map((x) => x.rssMiB)),
        };
      });
      const ratio = (into: Contestant['into']) => {
        const mine = stats.find((s) => s.c.product && s.c.into === into);
        const peers = stats.filter((s) => !s.c.product && s.c.into === into && Number.isFinite(s.wall));
        const best = peers.sort((a, b) => a.wall - b.wall)[0];
        return mine && best ? { mine, best } : undefined;
      };
      const rows = stats.map(({ c, wall, cpu, rss }) => {
        if (c.missing) return [c.name, 'skipped', c.missing, '', ''];
        const r = ratio(c.into);
        const vs =
          c.product && r
            ? `${(wall / r.best.wall).toFixed(2)}× wall, ${(cpu / r.best.cpu).toFixed(2)}× CPU of ${r.best.c.name}`
            : '';
        return [
          c.name,
          `${(file.bytes / 1e6 / wall).toFixed(0)} MB/s (${wall.toFixed(2)} s)`,
          (cpu / gibs).toFixed(2),
          rss.toFixed(0),
          vs,
        ];
      });
      tables.push({
        title: `Copy ${file.gib} GiB activity CSV (${file.rows.toLocaleString('en-US')} rows), loopback, median of ${options.runs} interleaved runs`,
        header: ['contestant', 'throughput (wall)', 'CPU s/GiB', 'peak RSS MiB', 'product / best peer'],
        rows,
      });
    }
  } finally {
    source.stop();
    sink.stop();
    await rm(out, { recursive: true, force: true });
  }
  return tables;
}
