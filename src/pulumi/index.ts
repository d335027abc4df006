// The Pulumi entry point, `keepalived-constructs/pulumi`. It re-exports core (InterfaceSelector, Target,
// the props types, ...) so that a Pulumi program needs neither cdk8s nor constructs.
export * from '../core';
export * from './keepalived-cluster';
export * from './frontend-vips';
export * from './gateway-pair';
export * from './reserved-vrids';
/** @internal */
export { resetVrrpDomainForTests } from './domain';
