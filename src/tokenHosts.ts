/**
 * The OCI token hosts setting (jsonData.ociTokenHosts), read as the backend
 * reads it (ParseTokenHosts in pkg/sources/oci/oci.go): entries separated by
 * commas, spaces, tabs or newlines; each must be what Go's url.Parse reads
 * as the whole host of https://ENTRY (a host name, HOST:PORT or [IPv6]:PORT,
 * no scheme, path, query, fragment, user or %-escape), and an IP address must
 * not be link-local, unspecified or multicast.
 */

/** Splits the setting as the backend does (strings.FieldsFunc on ',', ' ', '\n', '\t'). */
export function tokenHostEntries(raw: string): string[] {
  return raw.split(/[, \n\t]/).filter((h) => h !== '');
}

/** Why the backend would refuse the setting, naming the first bad entry; undefined when it accepts it. */
export function tokenHostsError(raw: string): string | undefined {
  for (const h of tokenHostEntries(raw)) {
    const hostname = hostnameOf(h);
    if (hostname === undefined) {
      return `${JSON.stringify(h)} is not a host name or HOST:PORT`;
    }
    const ip = parseIPv4(hostname) ?? parseIPv6(hostname);
    if (ip && neverTokenService(ip)) {
      return `${JSON.stringify(h)} is a link-local or non-unicast address, never a token service`;
    }
  }
  return undefined;
}

// ASCII characters Go's url package allows in a host besides ':' and the
// brackets of an IPv6 literal (shouldEscape(c, encodeHost) is false); any
// non-ASCII character passes.
const HOST_ASCII = /^[A-Za-z0-9\-._~!$&'()*+,;="<>\]]$/;
const hostChar = (c: string) => c.charCodeAt(0) >= 0x80 || HOST_ASCII.test(c);

/** The host name of an entry (without port or brackets), or undefined when Go's url.Parse would not give the entry back as the host. */
function hostnameOf(h: string): string | undefined {
  if (h.lastIndexOf('[') > 0) {
    return undefined;
  }
  if (h.startsWith('[')) {
    const close = h.lastIndexOf(']');
    if (close < 0 || !validOptionalPort(h.slice(close + 1))) {
      return undefined;
    }
    const inner = h.slice(1, close);
    // Only an IPv6 address (an IPv4-mapped one too) may be in brackets.
    if (!/^[0-9A-Fa-f:.]+$/.test(inner) || !parseIPv6(inner)) {
      return undefined;
    }
    return inner;
  }
  const colon = h.indexOf(':');
  if (colon >= 0 && (colon !== h.lastIndexOf(':') || !validOptionalPort(h.slice(colon)))) {
    return undefined;
  }
  const name = colon >= 0 ? h.slice(0, colon) : h;
  if (name === '' || ![...name].every(hostChar)) {
    return undefined;
  }
  return name;
}

/** "" or ":" followed by digits only (Go's validOptionalPort). */
function validOptionalPort(p: string): boolean {
  return p === '' || /^:[0-9]*$/.test(p);
}

/** Dotted-decimal IPv4 as Go's net.ParseIP reads it (no leading zeros), as 4 bytes. */
function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.map(Number);
}

/** An IPv6 address as Go's netip.ParseAddr reads it (no zone), as 16 bytes. */
function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const groups = (text: string, last: boolean): number[] | undefined => {
    if (text === '') {
      return [];
    }
    const out: number[] = [];
    const fields = text.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (last && i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIPv4(f);
        if (!v4) {
          return undefined;
        }
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(f)) {
        out.push(parseInt(f, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  if (!head || !tail) {
    return undefined;
  }
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) {
    return undefined;
  }
  const all = [...head, ...Array(8 - n).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Go's IsLinkLocalUnicast || IsUnspecified || IsMulticast, IPv4-mapped addresses read as IPv4. */
function neverTokenService(ip: number[]): boolean {
  let v4 = ip.length === 4 ? ip : undefined;
  if (ip.length === 16 && ip.slice(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) {
    v4 = ip.slice(12);
  }
  if (v4) {
    return (v4[0] === 169 && v4[1] === 254) || v4.every((b) => b === 0) || (v4[0] & 0xf0) === 224;
  }
  return (ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80) || ip.every((b) => b === 0) || ip[0] === 0xff;
}
