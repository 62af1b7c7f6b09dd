import { describe, expect, it } from 'vitest';
import { ConfigurationError, DownloadUrlRejectedError } from '#common/errors';
import { downloadHostsOf, parseHostPattern, parseSettings } from '#common/settings';
import { LinkedInClient } from '#linkedin/client';
import { assertAllowedDownloadUrl, redactUrl } from '#linkedin/download-hosts';

const DEFAULTS = ['*.licdn.com', '*.linkedin.com'];
const WITH_EMULATOR = [...DEFAULTS, '127.0.0.1:4010'];

describe('assertAllowedDownloadUrl', () => {
  it.each([
    ['https://media.licdn.com/dms/export.csv?e=1&t=sig', DEFAULTS],
    ['https://MEDIA.LICDN.COM/export.csv', DEFAULTS],
    ['https://a.b.licdn.com/export.csv', DEFAULTS],
    ['https://media.licdn.com:443/export.csv', DEFAULTS],
    ['https://media.licdn.com:8443/export.csv', ['*.licdn.com:8443']],
    ['https://dl.example.com/export.csv', ['dl.example.com:443']],
    ['https://www.linkedin.com/export.csv', DEFAULTS],
    ['http://127.0.0.1:4010/downloads/1.csv?token=x', WITH_EMULATOR],
    ['https://files.example.com/x.csv', ['FILES.example.com']],
    ['http://[::1]:8080/x.csv', ['[::1]:8080']],
    ['http://127.0.0.1:54321/x.csv', ['127.0.0.1:*']],
    ['http://127.9.8.7/x.csv', ['127.9.8.7']],
  ])('accepts %s', (url, hosts) => {
    expect(assertAllowedDownloadUrl(url, hosts).href).toBe(new URL(url).href);
  });

  it.each([
    ['http://media.licdn.com/export.csv', DEFAULTS, 'https'],
    ['http://media.licdn.com/export.csv', [...DEFAULTS, 'media.licdn.com'], 'https'],
    ['http://licdn.com/export.csv', ['licdn.com'], 'https'],
    ['https://evil.com/export.csv', DEFAULTS, 'allow-list'],
    ['https://licdn.com.evil.com/export.csv', DEFAULTS, 'allow-list'],
    ['https://evillicdn.com/export.csv', DEFAULTS, 'allow-list'],
    ['https://licdn.com/export.csv', DEFAULTS, 'allow-list'],
    ['http://127.0.0.1:4010/x.csv', DEFAULTS, 'allow-list'],
    ['http://127.0.0.2/x.csv', WITH_EMULATOR, 'allow-list'],
    // The port is part of the check: no port in the pattern = the scheme's default port only.
    ['https://media.licdn.com:8443/export.csv', DEFAULTS, 'allow-list'],
    ['http://127.0.0.1:4011/x.csv', WITH_EMULATOR, 'allow-list'],
    ['http://127.0.0.1:4010/x.csv', ['127.0.0.1'], 'allow-list'],
    // Cleartext only to loopback IP literals: never to a named host, even one on the list.
    ['http://files.example.com/x.csv', ['files.example.com'], 'https'],
    ['http://localhost:4010/x.csv', ['localhost:4010'], 'https'],
    ['http://10.0.0.5/x.csv', ['10.0.0.5'], 'https'],
    // Patterns too broad to mean anything allow nothing.
    ['https://evil.com/x.csv', ['*'], 'allow-list'],
    ['https://evil.com/x.csv', ['*.com'], 'allow-list'],
    ['https://media.licdn.com@evil.com/x.csv', DEFAULTS, 'credentials'],
    ['https://user:pw@media.licdn.com/x.csv', DEFAULTS, 'credentials'],
    ['https://evil.com\\@media.licdn.com/x.csv', DEFAULTS, 'allow-list'],
    ['https://evil.com#@media.licdn.com/x.csv', DEFAULTS, 'allow-list'],
    ['ftp://media.licdn.com/x.csv', DEFAULTS, 'only https'],
    ['file:///etc/passwd', DEFAULTS, 'only https'],
    ['javascript:alert(1)', DEFAULTS, 'only https'],
    ['//media.licdn.com/x.csv', DEFAULTS, 'valid'],
    ['not a url', DEFAULTS, 'valid'],
  ])('rejects %s', (url, hosts, reason) => {
    expect(() => assertAllowedDownloadUrl(url, hosts)).toThrow(DownloadUrlRejectedError);
    expect(() => assertAllowedDownloadUrl(url, hosts)).toThrow(reason);
  });

  it('never puts the query string in the error', () => {
    const err = catchError(() =>
      assertAllowedDownloadUrl('https://evil.com/x.csv?signature=SECRET', DEFAULTS),
    );
    expect(err).toBeInstanceOf(DownloadUrlRejectedError);
    expect((err as Error).name).toBe('DownloadUrlRejectedError');
    expect((err as Error).message).toContain('https://evil.com/x.csv');
    expect((err as Error).message).not.toContain('SECRET');
  });
});

describe('download host patterns', () => {
  it.each([
    ['*.licdn.com', { host: 'licdn.com', wildcard: true }],
    ['DL.Example.com:8443', { host: 'dl.example.com', wildcard: false, port: '8443' }],
    ['127.0.0.1:*', { host: '127.0.0.1', wildcard: false, port: '*' }],
    ['[::1]:9000', { host: '::1', wildcard: false, port: '9000' }],
  ])('parses %s', (text, pattern) => {
    expect(parseHostPattern(text)).toEqual(pattern);
  });

  it.each([
    '*',
    '*.com',
    '*.*.example.com',
    'ex*ample.com',
    'https://x.com',
    'x.com/path',
    'x.com:0',
    'x.com:70000',
    '',
  ])('refuses %j', (text) => {
    expect(parseHostPattern(text)).toBeUndefined();
    expect(() => parseSettings({ allowedDownloadHosts: [text] })).toThrow('allowedDownloadHosts');
  });

  it('allowedDownloadHosts adds to LinkedIn’s hosts; replaceDownloadHosts makes it the whole list', () => {
    expect(downloadHostsOf(parseSettings({}))).toEqual(['*.licdn.com', '*.linkedin.com']);
    expect(downloadHostsOf(parseSettings({ allowedDownloadHosts: ['dl.example.com'] }))).toEqual([
      '*.licdn.com',
      '*.linkedin.com',
      'dl.example.com',
    ]);
    expect(
      downloadHostsOf(
        parseSettings({ allowedDownloadHosts: ['dl.example.com'], replaceDownloadHosts: true }),
      ),
    ).toEqual(['dl.example.com']);
  });

  it('the API base URL must be https, or http to a loopback IP', () => {
    expect(() => parseSettings({ apiBaseUrl: 'http://api.example.com/v2' })).toThrow('must be https');
    expect(() => parseSettings({ apiBaseUrl: 'http://localhost:4010/v2' })).toThrow('must be https');
    expect(parseSettings({ apiBaseUrl: 'http://127.0.0.1:4010/v2' }).apiBaseUrl).toBe(
      'http://127.0.0.1:4010/v2',
    );
    expect(
      () => new LinkedInClient({ baseUrl: 'http://api.example.com/v2', getToken: async () => 't' }),
    ).toThrow(ConfigurationError);
  });
});

describe('redactUrl', () => {
  it('keeps origin and path, drops userinfo, query and fragment', () => {
    expect(redactUrl('https://u:p@media.licdn.com:8443/a/b.csv?e=1&t=SECRET#frag')).toBe(
      'https://media.licdn.com:8443/a/b.csv',
    );
    expect(redactUrl(new URL('http://127.0.0.1:4010/d/1.csv?token=x'))).toBe('http://127.0.0.1:4010/d/1.csv');
  });

  it('does not echo an unparsable URL', () => {
    expect(redactUrl('not a url?token=SECRET')).toBe('<invalid URL>');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
