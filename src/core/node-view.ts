/**
 * What a node looks like to the agent (its interfaces, addresses and default routes), and how an
 * `InterfaceSelector` resolves against it. Framework-free and OS-free: the agent gathers the view on
 * Linux (src/agent/node-view-linux.ts), tests write it by hand.
 */
import { contains, IpFamily, parseCidr } from './address';
import { InterfaceSelector, InterfaceSelectorSpec } from './interface-selector';

/**
 * The interface names the renderer writes into keepalived.conf: 1..15 letters, digits, `_`, `.`, `@`
 * and `-`. Linux allows nearly any byte in a name; keepalived's parser does not (`#` and `!` start
 * comments, `{` `}` open and close blocks, `"` quotes, white space splits), so a name from a node is
 * rendered only when it matches. The agent's node view drops other names with the same predicate.
 */
export const SAFE_INTERFACE_NAME = /^[A-Za-z0-9_.@-]{1,15}$/;

/** Whether an interface name may be written into keepalived.conf (`SAFE_INTERFACE_NAME`). */
export function interfaceNameIsSafe(name: unknown): name is string {
  return typeof name === 'string' && SAFE_INTERFACE_NAME.test(name);
}

/** The view without the interfaces (and their default routes) whose names `interfaceNameIsSafe` refuses. */
export function withSafeInterfaceNames(view: NodeView): NodeView {
  const unsafe = [...new Set([...view.interfaces.map((i) => i.name), ...view.defaultRoutes.map((r) => r.interface)])]
    .filter((n) => !interfaceNameIsSafe(n)).sort();
  if (unsafe.length === 0) return view;
  return {
    interfaces: view.interfaces.filter((i) => interfaceNameIsSafe(i.name)),
    defaultRoutes: view.defaultRoutes.filter((r) => interfaceNameIsSafe(r.interface)),
    unsafeInterfaceNames: [...new Set([...(view.unsafeInterfaceNames ?? []), ...unsafe])].sort(),
  };
}

/** A network interface of a node. */
export interface NodeInterface {
  /** The kernel's name, e.g. `eth0`. */
  readonly name: string;
  /** Its addresses as canonical CIDRs (`198.51.100.11/24`, `2001:db8:1::11/64`), IPv4 and IPv6. */
  readonly addresses: readonly string[];
}

/** A node's default route of one address family. */
export interface NodeDefaultRoute {
  readonly family: IpFamily;
  /** The interface the route leaves through. */
  readonly interface: string;
}

/** A node's network, as far as interface selection needs it. */
export interface NodeView {
  readonly interfaces: readonly NodeInterface[];
  /** Default routes in order of preference (lowest metric first); none of a family is possible. */
  readonly defaultRoutes: readonly NodeDefaultRoute[];
  /**
   * Interface names the node has that `interfaceNameIsSafe` refuses: left out of `interfaces` and
   * `defaultRoutes`, and named in messages.
   */
  readonly unsafeInterfaceNames?: readonly string[];
}

/** The result of resolving a selector: the interface's name, or why there is none. */
export type InterfaceResolution = { readonly name: string } | { readonly problem: string };

/**
 * Resolves a selector on a node.
 * - `Name`: the interface with that name, when the node has it.
 * - `NetworkAddress`: the one interface with an address inside the network (whose family wins over
 *   `family`); several such interfaces are an error, since keepalived would pick one arbitrarily.
 * - `DefaultRoute`: the interface of the node's preferred default route of `family`.
 *
 * A problem says what the node has, e.g.
 * `no interface named "bond0"; the node has: eth0 (198.51.100.11/24), lo (127.0.0.1/8)`.
 */
export function resolveInterface(selector: InterfaceSelectorSpec, family: IpFamily, view: NodeView): InterfaceResolution {
  // (spec.json is hand-editable: a null or missing selector is a problem to report, not a TypeError.)
  if (selector === null || typeof selector !== 'object') return { problem: `the interface selector is ${JSON.stringify(selector ?? null)}, not an object with a detectionStrategy` };
  switch (selector.detectionStrategy) {
    case 'Name': {
      if (view.interfaces.some((i) => i.name === selector.name)) return { name: selector.name };
      return { problem: `no interface named ${JSON.stringify(selector.name)}; ${describeInterfaces(view)}` };
    }
    case 'NetworkAddress': {
      const network = parseCidr(selector.networkAddress);
      if (!network) return { problem: `${JSON.stringify(selector.networkAddress)} is not a network with a prefix length` };
      const matches = view.interfaces.filter((i) => i.addresses.some((a) => {
        const cidr = parseCidr(a);
        return cidr !== undefined && contains(network, cidr.address);
      }));
      if (matches.length === 1) return { name: matches[0].name };
      if (matches.length === 0) return { problem: `no interface has an address in ${network.text}; ${describeInterfaces(view)}` };
      return { problem: `several interfaces have an address in ${network.text}: ${matches.map(describeInterface).join(', ')}; use InterfaceSelector.name() or a narrower network` };
    }
    case 'DefaultRoute': {
      const route = view.defaultRoutes.find((r) => r.family === family);
      if (route) return { name: route.interface };
      // Deckhouse crashes here; a node without a default route (of this family) is a plain error.
      const routes = view.defaultRoutes.length === 0
        ? 'no default route at all'
        : `default routes only for ${view.defaultRoutes.map((r) => `IPv${r.family} via ${r.interface}`).join(', ')}`;
      return { problem: `no IPv${family} default route (the node has ${routes}); ${describeInterfaces(view)}` };
    }
    default:
      return { problem: `unknown detectionStrategy ${JSON.stringify((selector as { detectionStrategy?: unknown }).detectionStrategy)}` };
  }
}

/** A selector as short text for messages, e.g. `Name(ens7)`: the same text `InterfaceSelector` shows. */
export function describeSelector(selector: InterfaceSelectorSpec): string {
  switch (selector?.detectionStrategy) {
    case 'Name': return InterfaceSelector.name(selector.name).toString();
    case 'NetworkAddress': return InterfaceSelector.networkAddress(selector.networkAddress).toString();
    case 'DefaultRoute': return InterfaceSelector.defaultRoute().toString();
    default: return JSON.stringify(selector);
  }
}

/** `the node has: eth0 (198.51.100.11/24, 2001:db8:1::11/64), lo (127.0.0.1/8)`, sorted by name. */
export function describeInterfaces(view: NodeView): string {
  const unsafe = (view.unsafeInterfaceNames ?? []).length === 0 ? ''
    : `; ignored, as names keepalived.conf cannot carry: ${view.unsafeInterfaceNames!.map((n) => JSON.stringify(n)).join(', ')}`;
  if (view.interfaces.length === 0) return `the node has no interfaces${unsafe}`;
  const sorted = [...view.interfaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `the node has: ${sorted.map(describeInterface).join(', ')}${unsafe}`;
}

function describeInterface(i: NodeInterface): string {
  return `${i.name} (${i.addresses.length > 0 ? i.addresses.join(', ') : 'no addresses'})`;
}
