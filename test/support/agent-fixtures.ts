import { AgentGroup } from '../../src/core/agent-spec';
import { InterfaceSelector } from '../../src/core/interface-selector';

/** A group of the agent's spec with fixture defaults: IPv4, VRRPv2, default route, one address by index. */
export const agentGroup = (g: Partial<AgentGroup> & Pick<AgentGroup, 'name' | 'index' | 'vrid'>): AgentGroup => ({
  family: 4,
  vrrpVersion: 2,
  interface: InterfaceSelector.defaultRoute()._spec,
  addresses: [{ address: `198.51.100.${100 + g.index}/32` }],
  preempt: true,
  advertInterval: 1,
  ...g,
});
