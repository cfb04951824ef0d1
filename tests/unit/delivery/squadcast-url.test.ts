import { checkSquadcastUrl } from '../../../lib/delivery/squadcast-url';

const KEY = '0123456789abcdef0123456789abcdef';

describe('checkSquadcastUrl', () => {
  it.each([
    `https://api.squadcast.com/v2/incidents/api/${KEY}`,
    `https://api.eu.squadcast.com/v2/incidents/api/${KEY}`,
    `https://proxy.example.internal:8443/squadcast/${KEY}`,
    `http://127.0.0.1:9/x`,
    `http://localhost:3000/squadcast/${KEY}`,
    `http://[::1]:8080/${KEY}`,
    `HTTP://LOCALHOST/${KEY}`,
  ])('accepts %s', (url) => {
    expect(checkSquadcastUrl(url)).toBeUndefined();
  });

  it.each<[string, string, string]>([
    [
      'plain http to Squadcast',
      `http://api.squadcast.com/v2/incidents/api/${KEY}`,
      'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)',
    ],
    [
      'plain http to a private address',
      `http://10.0.0.5/${KEY}`,
      'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)',
    ],
    [
      'plain http to a look-alike of localhost',
      `http://localhost.evil.example/${KEY}`,
      'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)',
    ],
    [
      'plain http to 127.0.0.1 as a subdomain',
      `http://127.0.0.1.nip.io/${KEY}`,
      'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)',
    ],
    ['another scheme', `ftp://api.squadcast.com/${KEY}`, 'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)'],
    ['a file URL', `file:///etc/${KEY}`, 'must be an https URL (plain http is allowed only to 127.0.0.1 or localhost)'],
    ['no scheme', `api.squadcast.com/v2/incidents/api/${KEY}`, 'is not a valid URL'],
    ['a bare key', KEY, 'is not a valid URL'],
    ['spaces in the host', `https://api squadcast.com/${KEY}`, 'is not a valid URL'],
    ['an empty string', '', 'is not a valid URL'],
  ])('refuses %s, without quoting the URL or key', (_name, url, problem) => {
    const result = checkSquadcastUrl(url);
    expect(result).toBe(problem);
    expect(result).not.toContain(KEY);
    expect(result).not.toContain('squadcast.com');
  });
});
