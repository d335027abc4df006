export * from './vrid';
export * from './advert-interval';
export * from './auth-password';
export * from './node-order';
export * from './garp-refresh';
export * from './vip-count';
