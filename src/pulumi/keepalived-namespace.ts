import * as pulumi from '@pulumi/pulumi';
import { AGENT_CONFIG_MAP_ID, contentFields, declareNamespace, DEFAULT_NAMESPACE, KeepalivedNamespaceProps, NAMESPACE_ID, NamespaceOwner, sharedNamespaceObjects } from '../core';
import { ProgramDomain, programDomain } from './domain';
import { kubernetesObject } from './kubernetes-object';

/**
 * What the standalone clusters of one namespace share: the Namespace (unless it exists already) and
 * the node agent's ConfigMap. No cluster owns them, so removing or reordering clusters never changes
 * their URNs (`keepalived-constructs:index:KeepalivedNamespace` named after the namespace), and Pulumi
 * never deletes a namespace that another cluster still uses.
 *
 * Declare one to set its labels or options; when a namespace has none, one is created for it once the
 * program's declarations have settled, with the provider and dependsOn of the first cluster that uses it.
 *
 * @example
 * new KeepalivedNamespace('keepalived', { name: 'keepalived' });
 */
export class KeepalivedNamespace extends pulumi.ComponentResource {
  /** The component's type token. */
  public static readonly __pulumiType: string = 'keepalived-constructs:index:KeepalivedNamespace';

  /** The namespace's name. */
  public readonly name: string;

  /** The Namespace, unless `createNamespace` is false. */
  public readonly namespace?: pulumi.CustomResource;

  /** The ConfigMap with the bundled node agent, unless `agentConfigMap` is false. */
  public readonly agentConfigMap?: pulumi.CustomResource;

  /** Both, in apply order. */
  public readonly resources: pulumi.CustomResource[];

  /**
   * @param name the component's resource name; keep it stable, it is part of every child's URN
   * @param props the same props as the cdk8s `KeepalivedNamespace`
   * @param opts passed to the component, and through `parent` to its children
   */
  constructor(name: string, props: KeepalivedNamespaceProps = {}, opts?: pulumi.ComponentResourceOptions) {
    super(KeepalivedNamespace.__pulumiType, name, {}, opts);
    const program = programDomain();
    const owner = declareNamespace(program.vrrp, name, props);
    this.name = owner.name;
    declared(program).set(this.name, this);
    const objects = sharedNamespaceObjects(this.name, { ...owner, labels: props.labels, annotations: props.annotations });
    const byId = new Map(objects.map(({ id, object }) => {
      const fields = ['metadata', ...contentFields(object)];
      const child = id === NAMESPACE_ID ? `${name}-namespace` : `${name}-agent`;
      return [id, kubernetesObject(child, object, fields, Promise.resolve(object), { parent: this })];
    }));
    this.resources = [...byId.values()];
    this.namespace = byId.get(NAMESPACE_ID);
    this.agentConfigMap = byId.get(AGENT_CONFIG_MAP_ID);
    this.registerOutputs({});
  }
}

const owners = new WeakMap<ProgramDomain, Map<string, KeepalivedNamespace>>();
const needs = new WeakMap<ProgramDomain, Map<string, Promise<pulumi.Resource[]>>>();
/** What one cluster needs of its namespace's shared objects. */
export interface NamespaceUse {
  /** The cluster's `createNamespace`, if it says. */
  readonly createNamespace: boolean | undefined;
  /** Whether its pods mount the agent ConfigMap. */
  readonly agentConfigMap: boolean;
}

const uses = new WeakMap<ProgramDomain, Map<string, NamespaceUse[]>>();

function declared(program: ProgramDomain): Map<string, KeepalivedNamespace> {
  let byName = owners.get(program);
  if (!byName) owners.set(program, byName = new Map());
  return byName;
}

/**
 * The shared resources of a cluster's namespace, once the program's declarations have settled: the
 * declared `KeepalivedNamespace`, or one created then (so that no cluster's order decides it).
 *
 * @internal
 */
export function namespaceResources(program: ProgramDomain, name: string, use: NamespaceUse,
  opts: pulumi.ComponentResourceOptions | undefined): Promise<pulumi.Resource[]> {
  let byName = needs.get(program);
  if (!byName) needs.set(program, byName = new Map());
  let usesByName = uses.get(program);
  if (!usesByName) uses.set(program, usesByName = new Map());
  usesByName.set(name, [...(usesByName.get(name) ?? []), use]);
  let resources = byName.get(name);
  if (!resources) {
    resources = program.join(`namespace ${name}`, () => '', () => {
      // The Namespace is emitted unless some cluster in it says the namespace exists, and the agent
      // ConfigMap if some cluster in it mounts it, whatever their order.
      const all = usesByName!.get(name)!;
      const wanted: Pick<NamespaceOwner, 'createNamespace' | 'agentConfigMap'> = {
        createNamespace: !all.some((u) => u.createNamespace === false),
        agentConfigMap: all.some((u) => u.agentConfigMap),
      };
      const owner = declared(program).get(name)
        ?? new KeepalivedNamespace(name ?? DEFAULT_NAMESPACE, { name, ...wanted }, { provider: opts?.provider, providers: opts?.providers, dependsOn: opts?.dependsOn });
      return owner.resources;
    }).result;
    byName.set(name, resources);
  }
  return resources;
}
