// Everything, for the tests and the benchmarks. Not reachable from the package (`exports` in
// package.json names only the two entry points).
export * from './core/all';
export * from './constructs';
