// The framework-free part of the public surface, shared by both entry points. Everything else in
// core is internal: the adapters, the agent and the tests import it from there. Core is imported
// through its index only: the bundles share one core module (projenrc/bundle.js).
export {
  FailoverProfile, HealthAction, HealthActionKind, HealthCheck, HttpScheme, ImagePullPolicy, InterfaceSelector, KeepalivedConfigError, MetricsListenAddress,
  SidecarMode, Target, UpdateStrategy, VrrpAuth, VrrpPolicyFlavor, VrrpVersion,
} from './core';
export type {
  ContainerResources, DashboardOptions, DeckhouseOptions, DiscoveryOptions, FrontendVipsProps, GatewayAddress, GatewayPairProps, HealthCheckOptions,
  HttpHealthCheckOptions, KeepalivedClusterBaseProps, KeepalivedClusterProps, KeepalivedNamespaceProps, KubeApiserverHealthCheckOptions,
  MetricsOptions, PodMonitorOptions, PrometheusRuleOptions, ReservedVridsProps, StandaloneImages, StandaloneOptions, StandaloneResources,
  TcpHealthCheckOptions, Toleration, ValidationIssue, VirtualIp, VrrpGroup,
} from './core';
