export * from './keepalived-cluster';
export * from './keepalived-namespace';
export * from './frontend-vips';
export * from './gateway-pair';
export * from './reserved-vrids';
