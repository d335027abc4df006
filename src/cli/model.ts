/**
 * The CLI's one door into core: KeepalivedInstance documents become clusters of one VRRP domain (the
 * same model the constructs declare), core's rules check them app-wide, and core builds their
 * manifests. Every core call of the CLI is in this file; core's issues come back with YAML field paths.
 */
import {
  CLUSTER_LABEL_KEYS,
  clusterObjects, ClusterDefinition, DEFAULT_METRICS_PORT, freeHostPorts, sharedNamespaceObjects, gatewayPairGroup, GroupDefinition, InterfaceSelector,
  ManifestObject, SidecarMode, StandaloneImages, Target, validateCluster, ValidationIssue, VrrpDomain, VrrpGroup, warningsOf,
} from '../core';
import { FieldPath, formatPath, parsePath } from './field-path';
import { KeepalivedInstanceInput, SelectorInput } from './keepalived-instance';
import { shapeOf } from './shape';

/** The target to build for, with the standalone options the command line sets. */
export type CliTarget =
  /** `program`: the instances become a program (import), whose target the user may change there. */
  | { readonly kind: 'deckhouse'; readonly program?: boolean }
  | {
    readonly kind: 'standalone';
    readonly namespace?: string;
    readonly nodeOrder?: string[];
    /** Discovery mode with its defaults (nodes from the API, a Lease per group's master). */
    readonly discovery?: boolean;
    readonly sidecar?: SidecarMode;
    readonly images?: Pick<StandaloneImages, 'keepalived' | 'keepalivedVersion' | 'agent' | 'agentInImage'>;
  };

/** A document to model: its instance and a unique label for messages (`front.yaml`, `all.yaml#2`). */
export interface ModelInput {
  readonly label: string;
  readonly instance: KeepalivedInstanceInput;
}

/** One issue of core's, located: the input (by index) and the YAML field, or a command-line option. */
export interface ModelIssue {
  /** Index into the inputs; undefined for an issue with a command-line option. */
  readonly input?: number;
  /** The YAML field (for an input), e.g. `['spec', 'vrrpInstances', 2, 'id']`. */
  readonly path?: FieldPath;
  /** Point at the field's key rather than its value (the key is what is wrong). */
  readonly at?: 'key';
  /** The option, e.g. `--node-order`, for an issue with the command line. */
  readonly option?: string;
  /** `field = value: problem. Valid: expected.`, with the field named as in the YAML. */
  readonly message: string;
}

/** The outcome: issues, or every input's manifests in apply order. */
export interface ModelResult {
  readonly issues: readonly ModelIssue[];
  /** What is valid but probably not what was meant (the constructs print these at synth). */
  readonly warnings: readonly ModelIssue[];
  /** Per input, its objects as plain data (empty when there are issues). */
  readonly manifests: readonly ManifestObject[][];
  /** The namespace's shared objects on the standalone target (Namespace, agent ConfigMap), emitted once. */
  readonly shared: readonly ManifestObject[];
}

/** A group's fields by their YAML path: core's `addresses[0].address` is `virtualIPAddresses[0].address`. */
const groupField = (index: number) => (field: string) => `spec.vrrpInstances[${index}].${field.replace(/^addresses/, 'virtualIPAddresses')}`;

function selector(s: SelectorInput): InterfaceSelector {
  if (s.detectionStrategy === 'Name') return InterfaceSelector.name(s.name);
  if (s.detectionStrategy === 'NetworkAddress') return InterfaceSelector.networkAddress(s.networkAddress);
  return InterfaceSelector.defaultRoute();
}

/**
 * A group as the instance's construct declares it: a GatewayPair's one group comes from core's
 * `gatewayPairGroup` (it names the group, which the standalone target uses); the others are plain.
 */
function groupOf(instance: KeepalivedInstanceInput, g: KeepalivedInstanceInput['vrrpInstances'][number]): VrrpGroup {
  if (shapeOf(instance) === 'GatewayPair') {
    const [lan, wan] = g.virtualIPAddresses;
    return gatewayPairGroup({
      nodeSelector: {},
      vrid: g.id as number,
      lan: { address: lan.address as string, interface: selector(g.interface) },
      wan: { address: wan.address as string, interface: selector(wan.interface!) },
      ...(g.preempt === undefined ? {} : { preempt: g.preempt as boolean }),
    }).group;
  }
  return {
    id: g.id as number,
    interface: selector(g.interface),
    addresses: g.virtualIPAddresses.map((vip) => (vip.interface ? { address: vip.address as string, interface: selector(vip.interface) } : { address: vip.address as string })),
    ...(g.preempt === undefined ? {} : { preempt: g.preempt as boolean }),
  };
}

/**
 * The target for one instance: the command line's, with the instance's labels and annotations, and on
 * the standalone target its metrics port (`metricsPort`: see `freeHostPorts`).
 */
function targetOf(t: CliTarget, instance: KeepalivedInstanceInput, metricsPort: number): Target {
  const metadata = {
    ...(instance.labels === undefined ? {} : { labels: instance.labels as Record<string, string> }),
    ...(instance.annotations === undefined ? {} : { annotations: instance.annotations as Record<string, string> }),
  };
  if (t.kind === 'deckhouse') return Target.deckhouse(metadata);
  // The package's own labels replace an instance's (a Helm- or kubectl-made app.kubernetes.io/*).
  const labels = metadata.labels && Object.fromEntries(Object.entries(metadata.labels).filter(([key]) => !CLUSTER_LABEL_KEYS.includes(key)));
  return Target.standalone({
    ...(t.namespace === undefined ? {} : { namespace: t.namespace }),
    ...(t.nodeOrder === undefined ? {} : { nodeOrder: t.nodeOrder }),
    ...(t.discovery ? { discovery: {} } : {}),
    ...(t.sidecar === undefined ? {} : { sidecar: t.sidecar }),
    ...(t.images === undefined ? {} : { images: t.images }),
    ...(metricsPort === DEFAULT_METRICS_PORT ? {} : { metrics: { port: metricsPort } }),
    ...metadata,
    ...(labels === undefined ? {} : { labels }),
  });
}

const OPTIONS: Record<string, string> = { namespace: '--namespace', nodeOrder: '--node-order', discovery: '--discovery', sidecar: '--sidecar' };
const IMAGE_OPTIONS: Record<string, string> = {
  keepalived: '--keepalived-image', keepalivedVersion: '--keepalived-version', agent: '--agent-image', agentInImage: '--agent-in-image',
};

/**
 * Checks the documents as one app, with every rule the constructs apply (per cluster, then app-wide:
 * VRIDs, addresses, names), and with `build`, builds their manifests when nothing is wrong.
 */
export function modelInstances(inputs: readonly ModelInput[], target: CliTarget, build = true): ModelResult {
  const domain = new VrrpDomain();
  const byPath = new Map<string, number>();
  const issues: ModelIssue[] = [];
  // Standalone instances on the same nodes each get an agent metrics port of their own, in the order of their names.
  const metricsPorts = target.kind !== 'standalone' ? [] : freeHostPorts(inputs.map(({ instance }) => ({ name: instance.name, nodeSelector: instance.nodeSelector as Record<string, string> })), DEFAULT_METRICS_PORT);
  const definitions: ClusterDefinition[] = inputs.map((input, i) => {
    const groups: GroupDefinition[] = input.instance.vrrpInstances.map((g) => ({ group: groupOf(input.instance, g), fieldOf: groupField(g.index) }));
    const def: ClusterDefinition = {
      path: input.label,
      id: input.instance.name,
      name: input.instance.name,
      // In YAML an empty selector is written out, so it is meant.
      selectAllNodes: true,
      nodeSelector: input.instance.nodeSelector as Record<string, string>,
      tolerations: (input.instance.tolerations ?? []) as ClusterDefinition['tolerations'],
      target: targetOf(target, input.instance, metricsPorts[i]),
      groups,
    };
    byPath.set(def.path, i);
    domain.addCluster(def);
    return def;
  });

  const warnings: ModelIssue[] = [];
  const seenOptionIssues = new Set<string>();
  const locateIssue = (input: number | undefined, issue: ValidationIssue, into = issues) => {
    const { field } = issue;
    const rest = describe(issue, target.kind === 'deckhouse' && target.program === true);
    // The target's options are the command line's, but for the instance's own labels and annotations.
    const option = /^target\.(?!(?:labels|annotations)\b)([A-Za-z]+)(.*)$/.exec(field);
    if (option) {
      const image = option[1] === 'images' ? IMAGE_OPTIONS[option[2].slice(1)] : undefined;
      const message = image ? `${image} ${rest}` : `${OPTIONS[option[1]] ?? option[1]}${option[2]} ${rest}`;
      if (seenOptionIssues.has(message)) return; // every cluster has the same options
      seenOptionIssues.add(message);
      into.push({ option: OPTIONS[option[1]] ?? `--${option[1]}`, message });
      return;
    }
    const yamlField = field === 'name' ? 'metadata.name'
      : field === 'groups' ? 'spec.vrrpInstances'
        : /^(nodeSelector|tolerations)\b/.test(field) ? `spec.${field}`
          : /^target\.(labels|annotations)\b/.test(field) ? `metadata.${field.slice('target.'.length)}` : field;
    const path = refineSelector(inputs[input!]?.instance, parsePath(yamlField) ?? ['spec']);
    // A map's key that is wrong (a label key, say) is reported with the key as its value: point at the key.
    const at = typeof issue.value === 'string' && path[path.length - 1] === issue.value ? 'key' as const : undefined;
    into.push({ input, path, ...(at ? { at } : {}), message: `${formatPath(path)} ${rest}` });
  };

  definitions.forEach((def, i) => {
    for (const issue of validateCluster(def)) locateIssue(i, issue);
    for (const warning of warningsOf(def)) locateIssue(i, warning, warnings);
  });
  for (const issue of domain.resolve().issues) locateIssue(byPath.get(issue.path), issue);
  if (issues.length > 0 || !build) return { issues, warnings, manifests: [], shared: [] };
  const namespace = definitions[0]?.target._strategy.namespace;
  const shared = namespace === undefined ? [] : sharedNamespaceObjects(namespace, { createNamespace: true, agentConfigMap: definitions.some((d) => d.target._strategy.needsAgentConfigMap) }).map((o) => o.object);
  return { issues, warnings, shared, manifests: definitions.map((def) => clusterObjects(def, domain).map((o) => o.object)) };
}

/** Construct props that core's messages name, and the command-line options that set them. */
const OPTION_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/Target\.standalone\(\)/g, '--target standalone'],
  [/\b(?:target\.)?images\.keepalivedVersion\b/g, '--keepalived-version'],
  [/\b(?:target\.)?images\.keepalived\b/g, '--keepalived-image'],
  [/\b(?:target\.)?images\.agentInImage\b/g, '--agent-in-image'],
  [/\b(?:target\.)?images\.agent\b/g, '--agent-image'],
  [/\bagentInImage\b/g, '--agent-in-image'],
];

/** The same for `import`, which has no options: what its program would say. */
const PROGRAM_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/Target\.standalone\(\)/g, 'target: Target.standalone() in the imported program'],
];

/** Core's words for a cluster's name, in a KeepalivedInstance's terms. */
const NAME_WORDS: ReadonlyArray<[RegExp, string]> = [[/set `name`/g, 'another metadata.name']];

/** Core's words for construct props, in the CLI's terms: a KeepalivedInstance always names its VRIDs. */
function describe(issue: { value: unknown; problem: string; expected: string }, program: boolean): string {
  const words = [...NAME_WORDS, ...(program ? PROGRAM_WORDS : OPTION_WORDS)];
  const cli = (text: string) => words.reduce((t, [pattern, option]) => t.replace(pattern, option), text);
  const expected = cli(issue.expected.replace(/,? or omit (it|vrids) for automatic allocation/g, ''));
  return `= ${showValue(issue.value)}: ${cli(issue.problem)}. Valid: ${expected}.`;
}

/** A value for a message: strings quoted, everything else as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // JSON would say null
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Core names an interface selector's field `interface`; the YAML has the value one level down. */
function refineSelector(instance: KeepalivedInstanceInput | undefined, path: FieldPath): FieldPath {
  if (!instance || path[path.length - 1] !== 'interface' || path[1] !== 'vrrpInstances') return path;
  const group = instance.vrrpInstances.find((g) => g.index === path[2]);
  const s = path.length === 4 ? group?.interface : group?.virtualIPAddresses[path[4] as number]?.interface;
  if (s?.detectionStrategy === 'Name') return [...path, 'name'];
  if (s?.detectionStrategy === 'NetworkAddress') return [...path, 'networkAddress'];
  return path;
}
