// Rest.li 2.0 query encoding: the one encoder for every URN (or other value) put in a LinkedIn query string.

/**
 * Percent-encodes `value` for a Rest.li 2.0 query string: every character outside RFC 3986's
 * unreserved set (`A-Z a-z 0-9 - . _ ~`) is escaped as UTF-8 `%XX`, including `:`, `,`, `(`, `)`.
 * In Rest.li 2.0 `(`, `)`, `,` and `:` are structure delimiters, so a URN passed as a whole value
 * (`urn:li:crmInstance:(DYNAMICS,…)`) must have them escaped; `encodeURIComponent` leaves
 * `( ) ! ' *` alone, which is why it is not used directly.
 */
export function encodeRestliValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * A query string (without `?`) from `params`, in the given order, each value encoded with
 * `encodeRestliValue`. Names are the API's own literal parameter names and are encoded the same way.
 */
export function restliQuery(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([name, value]) => `${encodeRestliValue(name)}=${encodeRestliValue(String(value))}`)
    .join('&');
}
