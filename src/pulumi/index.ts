// The Pulumi entry point, `keepalived-constructs/pulumi`: the same props and enums as the cdk8s entry
// point, so that a Pulumi program needs neither cdk8s nor constructs.
export * from '../public';
export * from './keepalived-cluster';
export { KeepalivedNamespace } from './keepalived-namespace';
export * from './frontend-vips';
export * from './gateway-pair';
export * from './reserved-vrids';
