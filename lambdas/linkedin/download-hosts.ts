// The download URL allow-list: which hosts an export may be fetched from.
import { DownloadUrlRejectedError } from '#common/errors';
import { isLoopbackIp, parseHostPattern } from '#common/settings';

/** LinkedIn's own domains (for `isLinkedInHost`). */
const LINKEDIN_HOSTS = ['*.licdn.com', '*.linkedin.com', 'licdn.com', 'linkedin.com'];

/** `origin + pathname` of a URL: safe for logs and errors (a signed URL's signature is in its query). */
export function redactUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

/**
 * Parses `url` and checks it before any request is made (no SSRF): https (http only to a loopback IP
 * literal, i.e. the local emulator), no userinfo, host and port on `allowedHosts` (`*.example.com`
 * matches subdomains only, other entries match exactly, case-insensitive; a pattern without a port
 * allows the scheme's default port only, `host:port` that port only).
 *
 * @throws DownloadUrlRejectedError
 */
export function assertAllowedDownloadUrl(url: string, allowedHosts: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadUrlRejectedError('download URL rejected: not a valid absolute URL');
  }
  const reject = (reason: string): never => {
    throw new DownloadUrlRejectedError(`download URL ${redactUrl(parsed)} rejected: ${reason}`);
  };
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') reject('only https is allowed');
  if (parsed.username || parsed.password) reject('credentials in the URL are not allowed');
  const host = normalizeHost(parsed.hostname);
  if (parsed.protocol === 'http:' && !isLoopbackIp(host))
    reject('a download must use https (http is allowed only to a loopback IP such as 127.0.0.1)');
  if (!allowedHosts.some((pattern) => allows(pattern, host, parsed.port, parsed.protocol)))
    reject(
      `host ${parsed.host} is not on the download allow-list (add it: --allow-download-host ${parsed.host} for a local run, allowedDownloadHosts in the stack settings)`,
    );
  return parsed;
}

/** Whether `hostname` is under one of LinkedIn's own domains (linkedin.com, licdn.com). */
export function isLinkedInHost(hostname: string): boolean {
  return hostMatches(normalizeHost(hostname), LINKEDIN_HOSTS);
}

function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
}

function hostMatches(host: string, patterns: readonly string[]): boolean {
  return patterns.some((raw) => {
    const pattern = normalizeHost(raw);
    if (!pattern.startsWith('*.')) return host === pattern;
    const suffix = pattern.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  });
}

/** Whether the allow-list entry `raw` admits `host` on `port` (`''` = the scheme's default port). */
function allows(raw: string, host: string, port: string, protocol: string): boolean {
  const pattern = parseHostPattern(raw);
  if (!pattern) return false; // an invalid entry allows nothing (settings validation names it)
  const defaultPort = protocol === 'https:' ? '443' : '80';
  const wanted = pattern.port === defaultPort ? '' : (pattern.port ?? '');
  if (wanted !== '*' && wanted !== port) return false;
  if (!pattern.wildcard) return host === pattern.host;
  const suffix = `.${pattern.host}`;
  return host.length > suffix.length && host.endsWith(suffix);
}
