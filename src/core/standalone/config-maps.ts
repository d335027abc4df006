/**
 * The standalone target's ConfigMaps. Each is immutable and named after a hash of its content, so a
 * changed model or agent rolls the DaemonSet, and a pod never sees a half-updated file.
 * - The cluster's own ConfigMap carries only `spec.json`, its model for the agent.
 * - The agent ConfigMap carries the bundled agent and keepalived's supervisor script, once per
 *   namespace (see `KeepalivedNamespace`).
 */
import { createHash, hash } from 'crypto';
import { AgentSpec } from '../agent-spec';
import { SUPERVISOR_FILE_CONTENT } from '../keepalived-supervisor';
import { ManifestObject } from '../manifest';
import { StandaloneOptions } from './options';

/** The data key of the cluster's model. */
export const SPEC_KEY = 'spec.json';
/** The data key of the bundled agent. */
export const AGENT_KEY = 'keepalived-agent.js';
/** The data key of keepalived's supervisor script (see keepalived-supervisor.ts). */
export const SUPERVISOR_KEY = 'keepalived-supervisor.sh';

/** The agent ConfigMap's data: the bundled agent, and the supervisor that every keepalived container runs. */
function agentData(agentSource: string): Record<string, string> {
  return { [AGENT_KEY]: agentSource, [SUPERVISOR_KEY]: SUPERVISOR_FILE_CONTENT };
}

/** Node's one-shot `crypto.hash` (Node 20.12 and later), when there is one. */
const oneShotHash: typeof hash | undefined = hash;

/**
 * The hash in a ConfigMap's name: SHA-256 over each key and value, each after its length in UTF-8
 * bytes, so that no two contents give the same input. One string goes to the hash in one call (a
 * synth hashes a ConfigMap per standalone cluster: Node's one-shot hash costs about half of a Hash
 * object's creation, updates and digest; the bytes, and so the names, are the same either way).
 */
function contentHash(data: Record<string, string>): string {
  let input = '';
  for (const [key, value] of Object.entries(data)) input += `${Buffer.byteLength(key)}:${key}${Buffer.byteLength(value)}:${value}`;
  const hex = oneShotHash ? oneShotHash('sha256', input, 'hex') : createHash('sha256').update(input).digest('hex');
  return hex.slice(0, 10);
}

/**
 * The cluster's ConfigMap: its `spec.json`, named after it. Without the spec (only the object's head is
 * wanted) it has no data, and its name is the prefix alone.
 */
export function specConfigMap(namePrefix: string, namespace: string, labels: Record<string, string>, spec: AgentSpec | undefined,
  annotations?: Record<string, string>): ManifestObject {
  const data = spec && { [SPEC_KEY]: `${JSON.stringify(spec, null, 2)}\n` };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: data ? `${namePrefix}-${contentHash(data)}` : namePrefix, namespace, labels: { ...labels }, ...(annotations ? { annotations: { ...annotations } } : {}) },
    immutable: true,
    data,
  };
}

/** Whether a cluster's pods mount the namespace's agent ConfigMap: unless its agent image has the agent baked in. */
export function needsAgentConfigMap(o: StandaloneOptions): boolean {
  return o.images?.agentInImage !== true;
}

let lastAgent: { source: string; name: string } | undefined;

/** The name of the agent ConfigMap for an agent's source (every cluster asks: hashed once). */
export function agentConfigMapName(agentSource: string): string {
  if (lastAgent?.source !== agentSource) lastAgent = { source: agentSource, name: `keepalived-agent-${contentHash(agentData(agentSource))}` };
  return lastAgent.name;
}

/** The namespace's agent ConfigMap: the bundled agent that every standalone pod in it runs. */
export function agentConfigMap(namespace: string, labels: Record<string, string>, agentSource: string): ManifestObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: agentConfigMapName(agentSource), namespace, labels: { ...labels } },
    immutable: true,
    data: agentData(agentSource),
  };
}
