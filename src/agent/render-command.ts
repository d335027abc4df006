/**
 * `keepalived-agent render`: reads the spec and the node, writes keepalived.conf atomically, and
 * returns a one-line summary. Nothing is written unless every group renders.
 */
import { readFileSync } from 'fs';
import { AgentSpec } from '../core/agent-spec';
import { formatKeepalivedConf, NodePlan, planNode } from '../core/keepalived-conf';
import { writeFileAtomic } from './atomic-file';
import { RenderOptions } from './cli';
import { InterfaceTable, readNodeView } from './node-view-linux';

/** A file the agent was pointed at cannot be read, parsed or written: exit 1. */
export class AgentInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentInputError';
  }
}

/** Environment the agent reads. */
export interface AgentEnvironment {
  /** Overrides the /proc root, for tests. */
  readonly KEEPALIVED_AGENT_PROC?: string;
}

/** Renders and writes this node's keepalived.conf; returns the summary line. Throws on any failure. */
export function renderCommand(options: RenderOptions, env: AgentEnvironment): string {
  const spec = readJson(options.specFile, '--spec') as AgentSpec;
  const authPass = options.authPassFile === undefined ? undefined : readAuthPass(options.authPassFile);
  const view = readNodeView({
    procRoot: env.KEEPALIVED_AGENT_PROC || undefined,
    interfaces: options.interfacesJsonFile === undefined ? undefined : readJson(options.interfacesJsonFile, '--interfaces-json') as InterfaceTable,
  });
  const plan = planNode(spec, view, { nodeName: options.nodeName, hostIp: options.hostIp, authPass });
  try {
    writeFileAtomic(options.outFile, formatKeepalivedConf(plan));
  } catch (e) {
    throw new AgentInputError(`cannot write --out ${options.outFile}: ${(e as Error).message}`);
  }
  return summaryOf(plan, options.outFile);
}

/** `wrote FILE for node N (cluster C): front-1 on eth0 priority 250 (master); ...` */
export function summaryOf(plan: NodePlan, outFile: string): string {
  const groups = plan.instances.map((i) => `${i.group.name} on ${i.interface} priority ${i.priority} (${i.role})`);
  return `wrote ${outFile} for node ${plan.nodeName} (cluster ${plan.cluster}): ${groups.join('; ') || 'no groups'}`;
}

/** The password without the line end that `echo` or an editor leaves in a Secret's file. */
function readAuthPass(file: string): string {
  return readText(file, '--auth-pass-file').replace(/\r?\n$/, '');
}

function readJson(file: string, flag: string): unknown {
  const text = readText(file, flag);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AgentInputError(`${flag} ${file} is not JSON: ${(e as Error).message}`);
  }
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AgentInputError(`cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
}
