/**
 * The agent's command line: strict, so that a typo in a manifest fails the pod instead of being ignored.
 * Each command declares its flags; a later `run` mode (watch the API, re-render) adds an entry to
 * `COMMANDS` and a handler in main.ts.
 */

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
    optional: ['auth-pass-file', 'host-ip'],
    // --interfaces-json FILE: the interface table in os.networkInterfaces() shape, instead of the node's.
    hidden: ['interfaces-json'],
  },
} as const satisfies Record<string, CommandFlags>;

/** The agent's commands. */
export type CommandName = keyof typeof COMMANDS;

/** The flags of `render`, by meaning. */
export interface RenderOptions {
  /** The cluster model, `spec.json`. */
  readonly specFile: string;
  readonly nodeName: string;
  /** Where keepalived.conf goes. */
  readonly outFile: string;
  readonly authPassFile?: string;
  readonly hostIp?: string;
  /** Test hook: the interface table from a file. */
  readonly interfacesJsonFile?: string;
}

/** What the command line asks for. */
export type Invocation =
  | { readonly command: 'help' }
  | { readonly command: 'render'; readonly options: RenderOptions };

/** The usage text. */
export const USAGE = `usage: keepalived-agent render --spec FILE --node-name NAME --out FILE [--auth-pass-file FILE] [--host-ip IP]

  render   write keepalived.conf for this node and exit: 0 on success, 1 when the node cannot run
           the spec (the message names the group, the selector and what the node has), 2 on usage.

  --spec FILE            the cluster model (spec.json from the ConfigMap)
  --node-name NAME       this node's Kubernetes name (spec.nodeName)
  --out FILE             keepalived.conf to write (atomically: a failed run leaves the old file)
  --auth-pass-file FILE  the VRRPv2 PASS password, required when the spec uses authentication
  --host-ip IP           this node's address (status.hostIP), required with unicast peers

environment: KEEPALIVED_AGENT_PROC overrides the /proc root (default /proc).`;

/** Parses the arguments after `node keepalived-agent.js`; throws `UsageError`. */
export function parseCommandLine(argv: readonly string[]): Invocation {
  if (argv.includes('--help') || argv.includes('-h')) return { command: 'help' };
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given');
  if (!Object.prototype.hasOwnProperty.call(COMMANDS, command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const flags = parseFlags(rest, COMMANDS[command as CommandName]);
  return {
    command: 'render',
    options: {
      specFile: flags.get('spec')!,
      nodeName: flags.get('node-name')!,
      outFile: flags.get('out')!,
      authPassFile: flags.get('auth-pass-file'),
      hostIp: flags.get('host-ip'),
      interfacesJsonFile: flags.get('interfaces-json'),
    },
  };
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
