/**
 * IP address and prefix parsing. The one parser the constructs, the renderer and the node agent share.
 */

/** An IP address family: 4 or 6. */
export type IpFamily = 4 | 6;

/** A parsed IP address. */
export interface IpAddress {
  readonly family: IpFamily;
  /** Network-order bytes: 4 for IPv4, 16 for IPv6. */
  readonly bytes: readonly number[];
  /** Canonical text (dotted quad, or RFC 5952 for IPv6). */
  readonly text: string;
}

/** A parsed address with a prefix length, such as `192.0.2.10/24`. */
export interface Cidr {
  readonly address: IpAddress;
  readonly prefix: number;
  /** Canonical `address/prefix` text. */
  readonly text: string;
}

/** Parses a bare IPv4 or IPv6 address; returns undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) return parseIpv6(text);
  const bytes = parseIpv4Bytes(text);
  return bytes ? { family: 4, bytes, text: bytes.join('.') } : undefined;
}

/**
 * Parsed prefixes by text. A synth parses each address many times over (validation, allocation, each
 * object that names it); the results are immutable, so the first parse serves the others. Bounded,
 * because the node agent parses what nodes report.
 */
const parsedCidrs = new Map<string, Cidr | undefined>();
const PARSED_CIDRS_MAX = 1024;

/** Parses `address/prefix`; returns undefined when the text is not one. */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  if (parsedCidrs.has(text)) return parsedCidrs.get(text);
  if (parsedCidrs.size >= PARSED_CIDRS_MAX) parsedCidrs.clear();
  const cidr = parseCidrText(text);
  parsedCidrs.set(text, cidr);
  return cidr;
}

/**
 * A number of up to three decimal digits without leading zeros ("010" is octal to some parsers and
 * decimal to others): a prefix length, or a part of a dotted quad.
 */
const DECIMAL = '(0|[1-9][0-9]{0,2})';
const PREFIX = new RegExp(`^${DECIMAL}$`);
/** A dotted quad, as one expression for the whole text: every address of a synth passes here. */
const IPV4 = new RegExp(`^${[DECIMAL, DECIMAL, DECIMAL, DECIMAL].join('\\.')}$`);

function parseCidrText(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !PREFIX.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix(address.family)) return undefined;
  return { address, prefix, text: `${address.text}/${prefix}` };
}

/** The longest prefix of a family: 32 or 128. */
export function maxPrefix(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** The network of a prefix: the address with its host bits cleared. */
export function networkOf(cidr: Cidr): Cidr {
  const bytes = cidr.address.bytes.map((b, i) => b & maskByte(cidr.prefix, i));
  const address = fromBytes(cidr.address.family, bytes);
  return { address, prefix: cidr.prefix, text: `${address.text}/${cidr.prefix}` };
}

/** True when the address has no host bits set, i.e. it names a network. */
export function isNetwork(cidr: Cidr): boolean {
  return networkOf(cidr).address.text === cidr.address.text;
}

/** True when `ip` lies inside `network`. */
export function contains(network: Cidr, ip: IpAddress): boolean {
  if (network.address.family !== ip.family) return false;
  return ip.bytes.every((b, i) => (b & maskByte(network.prefix, i)) === (network.address.bytes[i] & maskByte(network.prefix, i)));
}

function maskByte(prefix: number, index: number): number {
  const bits = Math.max(0, Math.min(8, prefix - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}

function fromBytes(family: IpFamily, bytes: number[]): IpAddress {
  return { family, bytes, text: family === 4 ? bytes.join('.') : formatIpv6(bytes) };
}

function parseIpv4Bytes(text: string): number[] | undefined {
  const parts = IPV4.exec(text);
  if (!parts) return undefined;
  const bytes = [Number(parts[1]), Number(parts[2]), Number(parts[3]), Number(parts[4])];
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function parseIpv6(text: string): IpAddress | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.includes('.')) {
        // An embedded IPv4 tail (::ffff:192.0.2.1) may only stand last.
        const v4 = i === parts.length - 1 ? parseIpv4Bytes(part) : undefined;
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1 && head.length !== 8) return undefined;
  if (halves.length === 2 && head.length + tail.length > 7) return undefined;
  const words = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  return fromBytes(6, bytes);
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
function formatIpv6(bytes: readonly number[]): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
