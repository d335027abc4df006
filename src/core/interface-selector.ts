/**
 * How a node finds the network interface for a VRRP group or a virtual IP. The same three strategies
 * as the Deckhouse module, resolved by the Deckhouse module on the Deckhouse target and by our node
 * agent on the standalone target.
 */
export type InterfaceSelectorSpec =
  | { readonly detectionStrategy: 'DefaultRoute' }
  | { readonly detectionStrategy: 'NetworkAddress'; readonly networkAddress: string }
  | { readonly detectionStrategy: 'Name'; readonly name: string };

/**
 * Selects a node's network interface.
 *
 * @example
 * InterfaceSelector.defaultRoute()                    // the interface of the default route
 * InterfaceSelector.networkAddress('192.168.42.0/24') // the interface with an address in this network
 * InterfaceSelector.name('ens7')                      // an interface with this name on every node
 */
export class InterfaceSelector {
  /** The interface that carries the node's default route (for the group's address family). */
  public static defaultRoute(): InterfaceSelector {
    return new InterfaceSelector({ detectionStrategy: 'DefaultRoute' });
  }

  /**
   * The interface that has an address inside `cidr`, a network such as `192.168.42.0/24`
   * (host bits must be zero). Every node must have an address in it.
   */
  public static networkAddress(cidr: string): InterfaceSelector {
    return new InterfaceSelector({ detectionStrategy: 'NetworkAddress', networkAddress: cidr });
  }

  /** The interface with this name, which must exist on every node (at most 15 bytes, as Linux allows). */
  public static name(ifname: string): InterfaceSelector {
    return new InterfaceSelector({ detectionStrategy: 'Name', name: ifname });
  }

  private constructor(
    /**
     * The selector as plain data, in the Deckhouse CRD's shape.
     *
     * @internal
     */
    public readonly _spec: InterfaceSelectorSpec,
  ) {}

  /** A short text for messages, e.g. `Name(ens7)`. */
  public toString(): string {
    const s = this._spec;
    if (s.detectionStrategy === 'Name') return `Name(${s.name})`;
    if (s.detectionStrategy === 'NetworkAddress') return `NetworkAddress(${s.networkAddress})`;
    return 'DefaultRoute';
  }
}
