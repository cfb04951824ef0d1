const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Any https URL is accepted (api.squadcast.com, api.eu.squadcast.com, a proxy); plain http only
 * to loopback, for local use. The problem never quotes the URL: its path holds the API key.
 */
export const checkSquadcastUrl = (value: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  // fetch refuses such a URL on every send, and its error message quotes the URL, key included.
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)';
};
