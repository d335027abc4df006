// The framework-free part of the public surface, shared by both entry points. Everything else in
// core is internal: the adapters, the agent and the tests import it from there.
export { InterfaceSelector } from './core/interface-selector';
export { Target } from './core/target';
export { KeepalivedConfigError } from './core/errors';
export type { ValidationIssue } from './core/errors';
export {
  FailoverProfile, ImagePullPolicy, SidecarMode, VrrpAuth, VrrpPolicyFlavor, VrrpVersion,
} from './core/standalone/options';
export type {
  ContainerResources, DiscoveryOptions, StandaloneImages, StandaloneOptions, StandaloneResources,
} from './core/standalone/options';
export type { KeepalivedClusterBaseProps, Toleration, VirtualIp, VrrpGroup } from './core/model';
export type { FrontendVipsProps, GatewayAddress, GatewayPairProps, KeepalivedClusterProps } from './core/shapes';
export type { KeepalivedNamespaceProps, ReservedVridsProps } from './core/declaration';
export type { DashboardOptions, MetricsOptions, PodMonitorOptions, PrometheusRuleOptions } from './core/monitoring/metrics-options';
export { HealthAction, HealthActionKind, HealthCheck, HttpScheme } from './core/health-check';
export type {
  HealthCheckOptions, HttpHealthCheckOptions, KubeApiserverHealthCheckOptions, TcpHealthCheckOptions,
} from './core/health-check';
