export * from './core';
export * from './constructs';
