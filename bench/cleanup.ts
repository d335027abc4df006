/** Cleanup that runs however the bench ends: normally, on an error, or on SIGINT / SIGTERM. */
const actions: (() => void)[] = [];
let installed = false;

/** Registers a synchronous cleanup action; returns a function that runs and unregisters it. */
export function onCleanup(action: () => void): () => void {
  install();
  actions.push(action);
  return () => {
    const i = actions.indexOf(action);
    if (i >= 0) {
      actions.splice(i, 1);
      action();
    }
  };
}

export function runCleanup(): void {
  while (actions.length > 0) {
    const a = actions.pop()!;
    try {
      a();
    } catch (e) {
      process.stderr.write(`bench cleanup: ${(e as Error).message}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      runCleanup();
      process.exit(130);
    });
  }
}
