export * from './keepalived-cluster';
export * from './frontend-vips';
export * from './gateway-pair';
export * from './reserved-vrids';
