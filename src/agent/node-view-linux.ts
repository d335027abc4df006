/**
 * Gathers a node's `NodeView` on Linux without external tools (the agent image is plain node:alpine):
 * addresses from `os.networkInterfaces()`, interface names and default routes from /proc.
 */
import { closeSync, openSync, readFileSync, readSync } from 'fs';
import { networkInterfaces, NetworkInterfaceInfo } from 'os';
import { join } from 'path';
import { parseCidr } from '../core/address';
import { NodeDefaultRoute, NodeInterface, NodeView, withSafeInterfaceNames } from '../core/node-view';

/** The interface table in the shape of `os.networkInterfaces()`. */
export type InterfaceTable = Record<string, readonly Partial<NetworkInterfaceInfo>[] | undefined>;

/** Where to read the view from; the defaults are the real node. */
export interface NodeViewSource {
  /** The proc file system. @default '/proc' */
  readonly procRoot?: string;
  /** The interface table. @default os.networkInterfaces() */
  readonly interfaces?: InterfaceTable;
}

// Route flags from linux/route.h and linux/ipv6_route.h.
const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;

/**
 * Reads the node's interfaces and default routes. Names that keepalived.conf cannot carry
 * (`interfaceNameIsSafe`) are left out and listed in `unsafeInterfaceNames`.
 */
export function readNodeView(source: NodeViewSource = {}): NodeView {
  const proc = source.procRoot ?? '/proc';
  return withSafeInterfaceNames({
    interfaces: interfacesOf(source.interfaces ?? networkInterfaces(), parseProcNetDev(readOptional(join(proc, 'net/dev')))),
    defaultRoutes: [
      ...parseProcNetRoute(readLinesOptional(join(proc, 'net/route'), (line) => IPV4_DEFAULT_DESTINATION.test(line))),
      ...parseProcNetIpv6Route(readLinesOptional(join(proc, 'net/ipv6_route'), (line) => IPV6_DEFAULT_DESTINATION.test(line))),
    ],
  });
}

/**
 * The addresses on the node's interfaces (canonical CIDRs), without the route tables that
 * `readNodeView` reads too (a node with a full BGP table has hundreds of thousands of routes).
 */
export function readNodeAddresses(source: Pick<NodeViewSource, 'interfaces'> = {}): string[] {
  return interfacesOf(source.interfaces ?? networkInterfaces()).flatMap((i) => i.addresses);
}

/**
 * The interfaces of a node: every one in the table with its canonical CIDRs, plus those /proc/net/dev
 * lists without addresses (`os.networkInterfaces()` omits them, yet a Name selector may pick one).
 * An IPv4 address with a label (`ip addr add ... label eth0:wan`) is listed under its label, which
 * starts with the interface's name and a colon (no interface name has one): it is the interface's.
 * Sorted by name.
 */
export function interfacesOf(table: InterfaceTable, kernelNames: readonly string[] = []): NodeInterface[] {
  const byName = new Map<string, string[]>();
  for (const name of kernelNames) byName.set(name, []);
  for (const [label, infos] of Object.entries(table)) {
    const name = label.split(':')[0];
    const addresses = byName.get(name) ?? [];
    for (const info of infos ?? []) {
      // `cidr` is address/prefix as the kernel holds it; null only for a malformed netmask.
      const cidr = typeof info.cidr === 'string' ? parseCidr(info.cidr) : undefined;
      if (cidr && !addresses.includes(cidr.text)) addresses.push(cidr.text);
    }
    byName.set(name, addresses);
  }
  return [...byName.keys()].sort().map((name) => ({ name, addresses: byName.get(name)! }));
}

/** Interface names from /proc/net/dev (two header lines, then `name: counters...`). */
export function parseProcNetDev(text: string): string[] {
  return text.split('\n').slice(2)
    .map((line) => line.split(':')[0].trim())
    .filter((name) => name.length > 0);
}

/** The lines of /proc/net/route and /proc/net/ipv6_route that may be default routes (the header is not). */
const IPV4_DEFAULT_DESTINATION = /^\S+\s+00000000\s/;
const IPV6_DEFAULT_DESTINATION = /^0{32}\s/;

/** IPv4 default routes from /proc/net/route: Destination and Mask 00000000, up, not reject; by metric. */
export function parseProcNetRoute(text: string): NodeDefaultRoute[] {
  const routes: { route: NodeDefaultRoute; metric: number }[] = [];
  // (The header line's Destination is `Destination`.)
  for (const line of text.split('\n')) {
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    if (mask === undefined || destination !== '00000000' || mask !== '00000000') continue;
    if (!usable(parseInt(flags, 16))) continue;
    routes.push({ route: { family: 4, interface: iface }, metric: parseInt(metric, 10) });
  }
  return byMetric(routes);
}

/**
 * IPv6 default routes from /proc/net/ipv6_route: destination ::/0 from any source, up, not reject
 * (the kernel's unreachable default sits on `lo`); the interface is the last column; by metric.
 */
export function parseProcNetIpv6Route(text: string): NodeDefaultRoute[] {
  const routes: { route: NodeDefaultRoute; metric: number }[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [destination, destinationPrefix, , sourcePrefix, , metric, , , flags] = cols;
    const iface = cols[cols.length - 1];
    if (!/^0{32}$/.test(destination) || destinationPrefix !== '00' || sourcePrefix !== '00') continue;
    if (iface === 'lo' || !usable(parseInt(flags, 16))) continue;
    routes.push({ route: { family: 6, interface: iface }, metric: parseInt(metric, 16) });
  }
  return byMetric(routes);
}

function usable(flags: number): boolean {
  return Number.isFinite(flags) && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0;
}

/** Lowest metric first (Array.sort is stable, so file order breaks ties); one entry per interface. */
function byMetric(routes: { route: NodeDefaultRoute; metric: number }[]): NodeDefaultRoute[] {
  const result: NodeDefaultRoute[] = [];
  for (const { route } of routes.sort((a, b) => a.metric - b.metric)) {
    if (!result.some((r) => r.interface === route.interface)) result.push(route);
  }
  return result;
}

/** The most lines of a route table kept: default routes are a handful (one per interface and metric). */
const MAX_KEPT_LINES = 1024;
const CHUNK_BYTES = 64 * 1024;

/**
 * The lines of a /proc table that `keep` selects (at most MAX_KEPT_LINES), read in chunks, or '' when
 * the file does not exist. A node's route table may hold a full BGP feed (a million routes, 128 MB of
 * text): read whole, it would take the agent past its memory limit, and only default routes matter.
 */
function readLinesOptional(path: string, keep: (line: string) => boolean): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
  const kept: string[] = [];
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let partial = '';
  try {
    for (let n = readSync(fd, chunk); n > 0 && kept.length < MAX_KEPT_LINES; n = readSync(fd, chunk)) {
      const lines = (partial + chunk.toString('latin1', 0, n)).split('\n');
      partial = lines.pop()!;
      // A line longer than a chunk is no route line: drop what it has so far.
      if (partial.length > CHUNK_BYTES) partial = '';
      for (const line of lines) if (keep(line) && kept.length < MAX_KEPT_LINES) kept.push(line);
    }
  } finally {
    closeSync(fd);
  }
  if (keep(partial) && kept.length < MAX_KEPT_LINES) kept.push(partial);
  return kept.join('\n');
}

/** A file's text, or '' when it does not exist (IPv6 disabled, or a fixture without it). */
function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}
