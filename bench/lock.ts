/**
 * The shared timing lock (BRIEF: timing-sensitive runs never overlap), taken per measurement segment so
 * that a long bench lets other timing runs in between its segments. `flock` holds the lock for as long
 * as its `cat` child runs; closing cat's stdin releases it, and so does this process dying.
 */
import { spawn } from 'child_process';
import { onCleanup } from './cleanup';

export async function acquireLock(file: string, log: (s: string) => void): Promise<() => void> {
  const t0 = Date.now();
  const child = spawn('flock', [file, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const release = onCleanup(() => {
    child.stdin!.end();
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`flock ${file} exited with ${code} before taking the lock`)));
  });
  const waited = (Date.now() - t0) / 1000;
  if (waited > 1) log(`lock: waited ${waited.toFixed(0)} s for ${file}`);
  return release;
}
