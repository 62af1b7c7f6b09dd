import { describe, expect, it } from 'vitest';
import { DownloadUrlRejectedError } from '#common/errors';
import { assertAllowedDownloadUrl, redactUrl } from '#linkedin/download-hosts';

const DEFAULTS = ['*.licdn.com', '*.linkedin.com'];
const WITH_EMULATOR = [...DEFAULTS, '127.0.0.1'];

describe('assertAllowedDownloadUrl', () => {
  it.each([
    ['https://media.licdn.com/dms/export.csv?e=1&t=sig', DEFAULTS],
    ['https://MEDIA.LICDN.COM/export.csv', DEFAULTS],
    ['https://a.b.licdn.com/export.csv', DEFAULTS],
    ['https://media.licdn.com:8443/export.csv', DEFAULTS],
    ['https://www.linkedin.com/export.csv', DEFAULTS],
    ['http://127.0.0.1:4010/downloads/1.csv?token=x', WITH_EMULATOR],
    ['https://files.example.com/x.csv', ['FILES.example.com']],
    ['http://[::1]:8080/x.csv', ['[::1]']],
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
    ['https://media.licdn.com@evil.com/x.csv', DEFAULTS, 'credentials'],
    ['https://user:pw@media.licdn.com/x.csv', DEFAULTS, 'credentials'],
    ['https://evil.com\\@media.licdn.com/x.csv', DEFAULTS, 'allow-list'],
    ['https://evil.com#@media.licdn.com/x.csv', DEFAULTS, 'allow-list'],
    ['ftp://media.licdn.com/x.csv', DEFAULTS, 'http(s)'],
    ['file:///etc/passwd', DEFAULTS, 'http(s)'],
    ['javascript:alert(1)', DEFAULTS, 'http(s)'],
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
