// Core's API for the adapters (src/constructs, src/pulumi, src/cli) and the public surface (src/public.ts):
// exactly what they use. The package ships core as one module, lib/core/index.js, that every entry
// point requires (projenrc/bundle.js), built from this file: what is not exported here is not in it,
// so every `require('keepalived-constructs')` loads, compiles and exports no more than the adapters
// need. The tests reach the rest through `./all` (src/internal.ts).
export {
  AGENT_CONFIG_MAP_ID, CLUSTER_LABEL_KEYS, DEFAULT_AGENT_IMAGE, DEFAULT_METRICS_PORT, DEFAULT_KEEPALIVED_IMAGE, DEFAULT_KEEPALIVED_VERSION,
  DEFAULT_NAMESPACE, FailoverProfile, HealthAction, HealthActionKind, HealthCheck, HttpScheme,
  ImagePullPolicy, InterfaceSelector, KeepalivedConfigError, MetricsListenAddress, NAMESPACE_ID, SidecarMode, Target, UpdateStrategy, VrrpAuth,
  VrrpDomain, VrrpPolicyFlavor, VrrpVersion, clusterGroupDefinition, clusterName, clusterObjectHeads,
  clusterObjects, contentFields, declareCluster, declareGroup, declareNamespace, declareReservation,
  asUserError, describeIssue, describeIssueAt, FRONTEND_VIPS_SHAPE, freeHostPorts, GATEWAY_PAIR_SHAPE, gatewayPairGroup, KEEPALIVED_CLUSTER_SHAPE, shapeOfClass, implicitNamespaceOptions, isClusterScoped, issuesOf,
  isPlainObject, isVrrpPolicyId, missingGroupIssues, namespaceDisagreement, nearestName, namespaceUseOf, throwIfIssues, withNamespaceUse, sharedNamespaceObjects, validateCluster, vridsOf, warningsOf,
} from './all';
export type {
  ClusterDefinition, ClusterObject, ContainerResources, DashboardOptions, DeckhouseOptions, DeclaredCluster, DiscoveryOptions,
  DomainResolution, FrontendVipsProps, GatewayAddress, GatewayPairProps, GroupDefinition, HealthCheckOptions,
  HttpHealthCheckOptions, KeepalivedClusterBaseProps, KeepalivedClusterProps, KeepalivedNamespaceProps,
  ClusterShape, KubeApiserverHealthCheckOptions, ManifestObject, MetricsOptions, ImplicitNamespaceOptions, NamespaceOwner, NamespaceUse, PodMonitorOptions,
  PrometheusRuleOptions, ReservedVridsProps, StandaloneImages, StandaloneOptions, StandaloneResources,
  TcpHealthCheckOptions, Toleration, ValidationIssue, VirtualIp, VrrpGroup,
} from './all';
