/**
 * The agent's command line: strict, so that a typo in a manifest fails the pod instead of being ignored.
 * Each command declares its flags: `render` (the init container) and `run` (the discovery sidecar).
 */
import { isIP } from 'net';
import { metricsPortIssues } from '../core/monitoring/metrics-options';

/** A command line the agent cannot run: exit 2 with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags of one command. */
interface CommandFlags {
  readonly required: readonly string[];
  readonly optional: readonly string[];
  /** Accepted but not shown in the usage: test hooks. */
  readonly hidden: readonly string[];
}

const COMMANDS = {
  render: {
    required: ['spec', 'node-name', 'out'],
    optional: ['auth-pass-file', 'host-ip', 'state-dir', 'notify-fifo', 'track-dir'],
    // --interfaces-json FILE: the interface table in os.networkInterfaces() shape, instead of the node's.
    // --service-account-dir DIR: token, ca.crt and namespace, instead of the pod's.
    // --api-timeout-ms MS: how long discovery waits for the API (default 5000).
    hidden: ['interfaces-json', 'service-account-dir', 'api-timeout-ms'],
  },
  run: {
    required: ['spec', 'node-name', 'out', 'pid-file'],
    optional: ['auth-pass-file', 'host-ip', 'state-dir', 'notify-fifo', 'metrics-port', 'metrics-address', 'track-dir'],
    // --retry-ms MS: how often a pending reload and the notify fifo are retried (default 1000).
    // --api-backoff-ms MS: the cap of the API watch's backoff (default 30000).
    hidden: ['interfaces-json', 'service-account-dir', 'retry-ms', 'api-backoff-ms'],
  },
} as const satisfies Record<string, CommandFlags>;

/** The agent's commands. */
export type CommandName = keyof typeof COMMANDS;

/** What `render` and `run` share. */
export interface NodeOptions {
  /** The cluster model, `spec.json`. */
  readonly specFile: string;
  readonly nodeName: string;
  /** Where keepalived.conf goes. */
  readonly outFile: string;
  readonly authPassFile?: string;
  readonly hostIp?: string;
  /** Discovery mode: where the last node set the API gave is kept (`nodes.json`). */
  readonly stateDir?: string;
  /** keepalived's notify_fifo: rendered into global_defs (with `discovery.leases`), and read by `run`. */
  readonly notifyFifo?: string;
  /**
   * Health checks: the directory of the track files (a volume shared with keepalived), rendered into
   * keepalived.conf by `render` and written by `run`. @default DEFAULT_TRACK_DIR
   */
  readonly trackDir?: string;
  /** Test hook: the interface table from a file. */
  readonly interfacesJsonFile?: string;
  /** Test hook: the service account directory (default /var/run/secrets/kubernetes.io/serviceaccount). */
  readonly serviceAccountDir?: string;
}

/** The flags of `render`, by meaning. */
export interface RenderOptions extends NodeOptions {
  /** Test hook: how long discovery waits for the API, in ms. @default 5000 */
  readonly apiTimeoutMs?: number;
}

/** The flags of `run`, by meaning. */
export interface RunOptions extends NodeOptions {
  /** keepalived's pid file (`--pid`): the process to SIGHUP after a change. */
  readonly pidFile: string;
  /** Test hook: the retry period of a pending reload and of the notify fifo, in ms. @default 1000 */
  readonly retryMs?: number;
  /** Test hook: the cap of the API watch's backoff, in ms. @default 30000 */
  readonly apiBackoffMs?: number;
  /** The metrics port (`--metrics-port`), over `spec.metrics.port`. @default - spec.metrics.port, else no metrics */
  readonly metricsPort?: number;
  /** The metrics listen address (`--metrics-address`), over `spec.metrics.address`. @default - every address */
  readonly metricsAddress?: string;
}

/** What the command line asks for. */
export type Invocation =
  | { readonly command: 'help' }
  | { readonly command: 'render'; readonly options: RenderOptions }
  | { readonly command: 'run'; readonly options: RunOptions };

/** The usage text. */
export const USAGE = `usage: keepalived-agent render --spec FILE --node-name NAME --out FILE [--auth-pass-file FILE] [--host-ip IP]
                              [--state-dir DIR] [--notify-fifo FILE] [--track-dir DIR]
       keepalived-agent run --spec FILE --node-name NAME --out FILE --pid-file FILE [--auth-pass-file FILE]
                           [--host-ip IP] [--state-dir DIR] [--notify-fifo FILE] [--track-dir DIR]
                           [--metrics-port PORT] [--metrics-address IP]

  render   write keepalived.conf for this node and exit: 0 on success, 1 when the node cannot run
           the spec (the message names the group, the selector and what the node has), 2 on usage.
           With spec.discovery, the nodes come from the API (one try, 5 s at most), else from the
           last node set saved in --state-dir, else from the spec's static order and peers.
  run      the sidecar next to keepalived. With spec.healthChecks, probes them and writes their
           track files in --track-dir (0 healthy, 1 failing, after fall / rise consecutive probes).
           With spec.discovery: watches the Nodes, rewrites keepalived.conf and sends keepalived
           SIGHUP when the node set changes it (at most once per minReloadIntervalSeconds); with
           discovery.leases, holds each group's Lease while this node is its master (from
           --notify-fifo). With spec.metrics or --metrics-port: serves Prometheus metrics on
           /metrics (keepalived's states from --notify-fifo; never signals keepalived for them).
           With none of these, it idles. Stops on SIGTERM with exit 0.

  --spec FILE            the cluster model (spec.json from the ConfigMap)
  --node-name NAME       this node's Kubernetes name (spec.nodeName)
  --out FILE             keepalived.conf to write (atomically: a failed run leaves the old file)
  --auth-pass-file FILE  the VRRPv2 PASS password, required when the spec uses authentication
  --host-ip IP           this node's address (status.hostIP), required with static unicast peers
  --state-dir DIR        discovery: where the last known node set is kept (nodes.json)
  --notify-fifo FILE     discovery with leases: keepalived's notify_fifo (rendered into global_defs)
  --pid-file FILE        run: keepalived's pid file (--pid), to signal it and to see whether it runs
  --metrics-port PORT    run: serve metrics on this port (1024..65535), over spec.metrics.port
  --metrics-address IP   run: listen on this address only (default: every address)
  --track-dir DIR        health checks: the track files' directory, shared with keepalived
                         (default /run/keepalived-health)

environment: KEEPALIVED_AGENT_PROC overrides the /proc root for network files (default /proc);
KEEPALIVED_AGENT_SYS overrides the /sys root for interface link states (default /sys);
KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT locate the API (set by the kubelet);
KEEPALIVED_AGENT_DEBUG=1 logs debug messages.`;

/** Parses the arguments after `node keepalived-agent.js`; throws `UsageError`. */
export function parseCommandLine(argv: readonly string[]): Invocation {
  if (argv.includes('--help') || argv.includes('-h')) return { command: 'help' };
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given');
  if (!Object.prototype.hasOwnProperty.call(COMMANDS, command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const name = command as CommandName;
  const flags = parseFlags(rest, COMMANDS[name]);
  const common: NodeOptions = {
    specFile: flags.get('spec')!,
    nodeName: flags.get('node-name')!,
    outFile: flags.get('out')!,
    authPassFile: flags.get('auth-pass-file'),
    hostIp: flags.get('host-ip'),
    stateDir: flags.get('state-dir'),
    notifyFifo: flags.get('notify-fifo'),
    trackDir: flags.get('track-dir'),
    interfacesJsonFile: flags.get('interfaces-json'),
    serviceAccountDir: flags.get('service-account-dir'),
  };
  if (name === 'render') {
    return { command: 'render', options: { ...common, apiTimeoutMs: positiveInteger(flags, 'api-timeout-ms') } };
  }
  return {
    command: 'run',
    options: {
      ...common,
      pidFile: flags.get('pid-file')!,
      retryMs: positiveInteger(flags, 'retry-ms'),
      apiBackoffMs: positiveInteger(flags, 'api-backoff-ms'),
      metricsPort: port(flags, 'metrics-port'),
      metricsAddress: ipAddress(flags, 'metrics-address'),
    },
  };
}

function positiveInteger(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a positive integer`);
  return Number(text);
}

function port(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const issues = metricsPortIssues('the command line', /^[0-9]{1,5}$/.test(text) ? Number(text) : text, [], `--${name}`);
  if (issues.length > 0) throw new UsageError(`--${name} ${JSON.stringify(text)} ${issues[0].problem}: ${issues[0].expected}`);
  return Number(text);
}

function ipAddress(flags: Map<string, string>, name: string): string | undefined {
  const text = flags.get(name);
  if (text !== undefined && isIP(text) === 0) throw new UsageError(`--${name} ${JSON.stringify(text)} is not an IP address`);
  return text;
}

/** `--name value` or `--name=value`; every flag takes a non-empty value and appears at most once. */
function parseFlags(args: readonly string[], known: CommandFlags): Map<string, string> {
  const allowed = new Set([...known.required, ...known.optional, ...known.hidden]);
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!allowed.has(name)) throw new UsageError(`unknown flag --${name}`);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    let value: string | undefined;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else if (i + 1 < args.length && !args[i + 1].startsWith('--')) {
      value = args[++i];
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  const missing = known.required.filter((name) => !flags.has(name));
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  return flags;
}
