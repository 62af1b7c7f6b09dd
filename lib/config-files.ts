// The sample app's environments: config/<env>.json chosen with -c env=<name>, layered under the CDK context.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Node } from 'constructs';
import { CONFIG_KEYS, ConfigError, type ResolvedConfig, resolveConfig } from './config.ts';

/** The file of config/ that is the JSON Schema, not an environment. */
export const SCHEMA_FILE = 'schema.json';
/** The committed sample environment: it never counts as a team's environment. */
export const EXAMPLE_ENV = 'example';

/** One environment of the app: its name (undefined without -c env) and its resolved configuration. */
export interface AppEnvironment extends ResolvedConfig {
  env?: string;
}

/** The environments config/ defines (its *.json files but the schema), sorted. */
export function listEnvironments(configDir: string): string[] {
  if (!existsSync(configDir)) return [];
  return readdirSync(configDir)
    .filter((f) => f.endsWith('.json') && f !== SCHEMA_FILE)
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/**
 * The environments to synthesize: `-c env=prod` (or `-c env=dev,prod`) reads config/<env>.json under the
 * context; without it, the context alone (cdk.json, -c), which is refused once config/ holds a team's
 * environment, so that a plain `cdk deploy` cannot put the defaults over a configured stack.
 * With an env and no stackName in its file or context, the stack is `SalesNavExport-<env>`.
 */
export function loadEnvironments(node: Node, configDir: string): AppEnvironment[] {
  const context = node.getAllContext() as Record<string, unknown>;
  const available = listEnvironments(configDir);
  const requested = context.env;
  const shown = relative(process.cwd(), configDir) || '.';
  if (requested === undefined) {
    const teams = available.filter((e) => e !== EXAMPLE_ENV);
    if (teams.length > 0) {
      throw new ConfigError(
        `env: ${shown}/ configures ${teams.join(', ')}; choose with -c env=<name> (e.g. npx cdk deploy -c env=${teams[0]}), so that a deploy without it cannot reset a configured stack to the defaults.`,
      );
    }
    return [{ env: undefined, ...resolveConfig({ context }) }];
  }
  const names = String(requested)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new ConfigError('env: is empty; give -c env=<name> (one of config/*.json).');
  return names.map((env) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(env) || !available.includes(env)) {
      throw new ConfigError(
        `env: no ${shown}/${env}.json; the environments are ${available.join(', ') || '(none)'}. Create the file (it follows ${shown}/${SCHEMA_FILE}) or pick one of them.`,
      );
    }
    const name = `${shown}/${env}.json`;
    const values = readConfigFile(join(configDir, `${env}.json`), name);
    const resolved = resolveConfig({ file: { name, values }, context });
    if (resolved.sources.stackName === 'default') {
      resolved.config.stackName = `${resolved.config.stackName}-${env}`;
    }
    return { env, ...resolved };
  });
}

function readConfigFile(path: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${name}: is not valid JSON (${(error as Error).message}); fix the file.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${name}: must hold one JSON object of settings, e.g. {"retentionDays": 365}.`);
  }
  return parsed as Record<string, unknown>;
}

/** What each setting resolved to and where it came from, one line each (printed by `cdk synth`). */
export function describeEnvironment({ env, config, sources }: AppEnvironment): string {
  const values = config as unknown as Record<string, unknown>;
  const lines = CONFIG_KEYS.map((key) => {
    const value = values[key];
    const shown =
      value === undefined ? '-' : typeof value === 'string' && value !== '' ? value : JSON.stringify(value);
    return `  ${key.padEnd(22)} ${shown}  (${sources[key]})`;
  });
  return [`${config.stackName}${env ? ` (env ${env})` : ''}:`, ...lines].join('\n');
}
