// The cdk8s entry point, `keepalived-constructs`.
export * from './public';
export * from './constructs';
