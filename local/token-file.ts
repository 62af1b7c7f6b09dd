// The local token file: written 0600 by `npm run token -- login`, read by local runs when LINKEDIN_ACCESS_TOKEN is unset.
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '#common/errors';
import { type TokenSecret, TokenSecretSchema } from '#linkedin/token';

/**
 * `$LINKEDIN_TOKEN_FILE`, else `$XDG_CONFIG_HOME/salesnav-export/linkedin-token.json`
 * (`~/.config/...` without XDG_CONFIG_HOME): outside the repository, so it is never committed.
 */
export function defaultTokenFile(env: NodeJS.ProcessEnv): string {
  if (env.LINKEDIN_TOKEN_FILE?.trim()) return env.LINKEDIN_TOKEN_FILE.trim();
  const config = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(config, 'salesnav-export', 'linkedin-token.json');
}

/** The record, or undefined when there is no file. A file that is not a token record is an error. */
export async function readTokenFile(path: string): Promise<TokenSecret | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigurationError(
      `cannot read the token file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = TokenSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigurationError(
      `the token file ${path} is not a token record: run npm run token -- login to write it again`,
    );
  }
  return parsed.data;
}

/**
 * Writes the record readable by its owner only: the directory 0700, the file created 0600 through
 * a temp file and a rename (a reader never sees half a token), and chmod'ed in case it existed.
 */
export async function writeTokenFile(path: string, record: TokenSecret): Promise<void> {
  const dir = dirname(path);
  const existing = await stat(dir).catch(() => undefined);
  if (!existing) await mkdir(dir, { recursive: true, mode: 0o700 });
  else if (!existing.isDirectory()) throw new ConfigurationError(`${dir} is not a directory`);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
