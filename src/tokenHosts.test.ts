import { tokenHostEntries, tokenHostsError } from './tokenHosts';

// Verdicts of the backend's ParseTokenHosts (pkg/sources/oci/oci.go, go1.26.8,
// this module's go.mod) on each entry: ok, host (not a host name or
// HOST:PORT) or address (link-local or non-unicast).
const BACKEND: Array<[string, 'ok' | 'host' | 'address']> = [
  ['auth.example.com', 'ok'],
  ['Auth.Example.com:8443', 'ok'],
  ['a:', 'ok'],
  ['a:0', 'ok'],
  ['a:65536', 'ok'],
  ['127.0.0.1', 'ok'],
  ['10.0.0.1', 'ok'],
  ['01.2.3.4', 'ok'],
  ['256.1.1.1', 'ok'],
  ['1.2.3.4.5', 'ok'],
  ['169.254.0.01', 'ok'],
  ['a]b', 'ok'],
  ['a]:80', 'ok'],
  ['a"b', 'ok'],
  ['a<b', 'ok'],
  ['a!b', 'ok'],
  ['a~b', 'ok'],
  ['a_b', 'ok'],
  ['é.com', 'ok'],
  ['a..b', 'ok'],
  ['-a', 'ok'],
  ['[::1]:80', 'ok'],
  ['[::1]:', 'ok'],
  ['[::ffff:1.2.3.4]', 'ok'],
  ['[::1.2.3.4]', 'ok'],
  ['[::ff:1.2.3.4]', 'ok'],
  ['[1:2:3:4:5:6:7:8]', 'ok'],
  ['[1:2:3:4:5:6:1.2.3.4]', 'ok'],
  ['[::1:2:3:4:5:6:7]', 'ok'],
  ['[1::]', 'ok'],
  ['[fec0::1]', 'ok'],
  ['::1', 'host'],
  ['::', 'host'],
  ['fe80::1', 'host'],
  ['::ffff:169.254.1.1', 'host'],
  ['https://a', 'host'],
  ['a/b', 'host'],
  ['a?x', 'host'],
  ['a?', 'host'],
  ['a#', 'host'],
  ['u@a', 'host'],
  ['@a', 'host'],
  [':443', 'host'],
  ['a:b', 'host'],
  ['a:80x', 'host'],
  ['a:80:90', 'host'],
  ['a%41', 'host'],
  ['a%25', 'host'],
  ['a^b', 'host'],
  ['a|b', 'host'],
  ['a{b', 'host'],
  ['a\\b', 'host'],
  ['a\rb', 'host'],
  ['a\x7fb', 'host'],
  ['a[b', 'host'],
  ['[a]', 'host'],
  ['[::1', 'host'],
  ['[::1]x', 'host'],
  ['[::1]]', 'host'],
  ['[::1]:8a', 'host'],
  ['[127.0.0.1]', 'host'],
  ['[fe80::1%25eth0]', 'host'],
  ['[1:2:3:4:5:6:7:8:9]', 'host'],
  ['[1:2:3:4:5:6:7:1.2.3.4]', 'host'],
  ['[1::2::3]', 'host'],
  ['[12345::1]', 'host'],
  ['[:1]', 'host'],
  ['[1:]', 'host'],
  ['169.254.1.1', 'address'],
  ['169.254.1.1:80', 'address'],
  ['0.0.0.0', 'address'],
  ['224.0.0.1', 'address'],
  ['239.255.255.255', 'address'],
  ['[fe80::1]', 'address'],
  ['[FE80::1]', 'address'],
  ['[febf::1]', 'address'],
  ['[::]', 'address'],
  ['[ff02::1]', 'address'],
  ['[::ffff:169.254.1.1]', 'address'],
  ['[::ffff:169.254.1.1]:443', 'address'],
  ['[::ffff:0.0.0.0]', 'address'],
  ['[::ffff:224.0.0.1]', 'address'],
];

describe('tokenHostsError', () => {
  it.each(BACKEND)('reads %j as the backend does (%s)', (entry, verdict) => {
    const err = tokenHostsError(entry);
    const quoted = JSON.stringify(entry);
    if (verdict === 'ok') {
      expect(err).toBeUndefined();
    } else if (verdict === 'host') {
      expect(err).toBe(`${quoted} is not a host name or HOST:PORT`);
    } else {
      expect(err).toBe(`${quoted} is a link-local or non-unicast address, never a token service`);
    }
  });

  it('accepts an empty setting and separators alone', () => {
    expect(tokenHostsError('')).toBeUndefined();
    expect(tokenHostsError(' ,\n\t, ')).toBeUndefined();
  });

  it('names the first refused entry among good ones', () => {
    expect(tokenHostsError('auth.example.com, https://auth.example.org/token 169.254.169.254')).toBe(
      '"https://auth.example.org/token" is not a host name or HOST:PORT'
    );
    expect(tokenHostsError('auth.example.com 169.254.169.254,x')).toBe(
      '"169.254.169.254" is a link-local or non-unicast address, never a token service'
    );
  });

  it('splits on commas, spaces, tabs and newlines only', () => {
    expect(tokenHostEntries('a.io,b.io c.io\td.io\ne.io,,')).toEqual(['a.io', 'b.io', 'c.io', 'd.io', 'e.io']);
    // A carriage return is no separator for the backend: it stays in the entry and is refused.
    expect(tokenHostsError('a.io\r\nb.io')).toBe('"a.io\\r" is not a host name or HOST:PORT');
  });
});
