/**
 * Gathers a node's `NodeView` on Linux without external tools (the agent image is plain node:alpine):
 * addresses from `os.networkInterfaces()`, interface names and default routes from /proc.
 */
import { readFileSync } from 'fs';
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
      ...parseProcNetRoute(readOptional(join(proc, 'net/route'))),
      ...parseProcNetIpv6Route(readOptional(join(proc, 'net/ipv6_route'))),
    ],
  });
}

/**
 * The interfaces of a node: every one in the table with its canonical CIDRs, plus those /proc/net/dev
 * lists without addresses (`os.networkInterfaces()` omits them, yet a Name selector may pick one).
 * Sorted by name.
 */
export function interfacesOf(table: InterfaceTable, kernelNames: readonly string[] = []): NodeInterface[] {
  const byName = new Map<string, string[]>();
  for (const name of kernelNames) byName.set(name, []);
  for (const [name, infos] of Object.entries(table)) {
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

/** IPv4 default routes from /proc/net/route: Destination and Mask 00000000, up, not reject; by metric. */
export function parseProcNetRoute(text: string): NodeDefaultRoute[] {
  const routes: { route: NodeDefaultRoute; metric: number }[] = [];
  for (const line of text.split('\n').slice(1)) {
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

/** A file's text, or '' when it does not exist (IPv6 disabled, or a fixture without it). */
function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}
