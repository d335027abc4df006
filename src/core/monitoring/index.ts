export * from './metrics-options';
export * from './pod-monitor';
export * from './prometheus-rule';
export * from './dashboard';
