// The download URL allow-list: which hosts an export may be fetched from.
import { DownloadUrlRejectedError } from '#common/errors';

/**
 * LinkedIn's own hosts. A download URL on one of them must be https, whatever the allow-list says;
 * only a host the user added explicitly (e.g. `127.0.0.1` for the local emulator) may be http.
 */
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
 * Parses `url` and checks it before any request is made (no SSRF): http(s) only, no userinfo,
 * hostname on `allowedHosts` (`*.example.com` matches subdomains only, other entries match exactly;
 * case-insensitive, port ignored), and https for every LinkedIn host.
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
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') reject('only http(s) is allowed');
  if (parsed.username || parsed.password) reject('credentials in the URL are not allowed');
  const host = normalizeHost(parsed.hostname);
  if (!hostMatches(host, allowedHosts))
    reject(
      `host ${host} is not on the download allow-list (add it: --allow-download-host ${host} for a local run, allowedDownloadHosts in the stack settings)`,
    );
  if (parsed.protocol !== 'https:' && hostMatches(host, LINKEDIN_HOSTS))
    reject('LinkedIn hosts must use https');
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
