/** What the results were measured on. */
import { execFileSync, spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as os from 'os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly keepalived: string;
  readonly iproute2: string;
  readonly date: string;
  readonly loadAverage: string;
}

function run(cmd: string, args: string[]): string {
  try {
    const r = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return r.trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || 'not available';
  }
}

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  // keepalived prints its version on stderr.
  const k = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  const keepalived = k.error ? 'not installed' : `${k.stdout ?? ''}${k.stderr ?? ''}`.split('\n')[0].trim();
  return {
    cpuModel,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    keepalived,
    iproute2: run('ip', ['-V']),
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
