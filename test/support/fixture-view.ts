import { contains, IpAddress, parseCidr, parseIp } from '../../src/core/address';
import { AgentSpec } from '../../src/core/agent-spec';
import { InterfaceSelectorSpec } from '../../src/core/interface-selector';
import { RenderNode } from '../../src/core/keepalived-conf';
import { NodeView } from '../../src/core/node-view';

/** The interface that carries the fixture's addresses and default routes. */
export const FIXTURE_MAIN_INTERFACE = 'eth0';

/**
 * A node on which every selector of a spec resolves: one main interface (`eth0`) with the default
 * routes of both families, an address in each NetworkAddress selector's network (never a VIP), and this
 * node's unicast peer address of each family; an interface for each Name selector. With the node flags
 * the renderer needs (`--host-ip`, a PASS password when `spec.auth`). `host` (1..) picks the addresses.
 */
export function fixtureNodeFor(spec: AgentSpec, nodeName: string, host: number): { view: NodeView; node: RenderNode } {
  const selectors: InterfaceSelectorSpec[] = spec.groups.flatMap((g) => [g.interface, ...g.addresses.map((a) => a.interface)])
    .filter((s): s is InterfaceSelectorSpec => s !== undefined);
  const vips = new Set(spec.groups.flatMap((g) => g.addresses.map((a) => parseCidr(a.address)?.address.text)));
  const main: string[] = [];
  for (const s of selectors) {
    if (s.detectionStrategy !== 'NetworkAddress') continue;
    const network = parseCidr(s.networkAddress)!;
    if (main.some((a) => contains(network, parseCidr(a)!.address))) continue;
    // the network's host+k-th address that is not a VIP (a /32 or /128 network has only its own address)
    for (let k = host; ; k++) {
      const ip = offset(network.address, network.prefix, k);
      if (!vips.has(ip.text) || k > host + 1000) {
        main.push(`${ip.text}/${network.prefix}`);
        break;
      }
    }
  }
  const peers = (spec.unicastPeers ?? []).map((p) => parseIp(p)!);
  const hostIps = [4, 6].map((f) => peers.filter((p) => p.family === f)[host - 1]).filter((p): p is IpAddress => p !== undefined);
  for (const ip of hostIps) main.push(`${ip.text}/${ip.family === 4 ? 32 : 128}`);
  const names = [...new Set(selectors.filter((s) => s.detectionStrategy === 'Name').map((s) => s.name!))].filter((n) => n !== FIXTURE_MAIN_INTERFACE);
  return {
    view: {
      interfaces: [{ name: FIXTURE_MAIN_INTERFACE, addresses: main }, ...names.map((name) => ({ name, addresses: [] }))],
      defaultRoutes: [{ family: 4, interface: FIXTURE_MAIN_INTERFACE }, { family: 6, interface: FIXTURE_MAIN_INTERFACE }],
    },
    node: {
      nodeName,
      ...(hostIps.length > 0 ? { hostIp: hostIps[0].text } : {}),
      ...(spec.auth ? { authPass: 'Vrrp-Pw1' } : {}),
    },
  };
}

/** The address `k` after the network's, within its prefix (wrapping). */
function offset(network: IpAddress, prefix: number, k: number): IpAddress {
  const bits = network.bytes.length * 8;
  let n = network.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const hostBits = BigInt(bits - prefix);
  const size = 1n << hostBits;
  n = (n & ~(size - 1n)) | (BigInt(k) % size);
  const bytes: number[] = [];
  for (let i = 0; i < network.bytes.length; i++) bytes.unshift(Number((n >> BigInt(8 * i)) & 255n));
  const text = network.family === 4 ? bytes.join('.') : groupsOf(bytes);
  return parseIp(text)!;
}

function groupsOf(bytes: number[]): string {
  const words = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}
