import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  AGENT_CONFIG_MAP_ID, contentFields, declareNamespace, DEFAULT_NAMESPACE, KeepalivedConfigError, KeepalivedNamespaceProps, NAMESPACE_ID, NamespaceOwner,
  sharedNamespaceObjects,
} from '../core';
import { ProgramDomain, programDomain } from './domain';
import { kubernetesObject } from './kubernetes-object';

/**
 * What the standalone clusters of one namespace share: the Namespace (unless it exists already) and
 * the node agent's ConfigMap. No cluster owns them, so removing or reordering clusters never changes
 * their URNs (`keepalived-constructs:index:KeepalivedNamespace` named after the namespace), and Pulumi
 * never deletes a namespace that another cluster still uses.
 *
 * Declare one to set its labels or options, or to make resources of your own in the namespace depend on
 * it (a Secret for `VrrpAuth.fromSecret`). When a namespace has none, one is created for it once the
 * program's declarations have settled, named after the namespace, with the Kubernetes provider of the
 * clusters that use it (all of them must use the same one) and no `dependsOn`: what a cluster depends on
 * may itself live in the namespace. A declared one named otherwise takes over the URNs of the one
 * created before it was declared (through aliases), so declaring one later never deletes the namespace.
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
  public readonly namespace?: k8s.core.v1.Namespace;

  /** The ConfigMap with the bundled node agent, unless `agentConfigMap` is false. */
  public readonly agentConfigMap?: k8s.core.v1.ConfigMap;

  /** Both, in apply order. */
  public readonly resources: pulumi.CustomResource[];

  /**
   * @param name the component's resource name; keep it stable, it is part of every child's URN
   * @param props the same props as the cdk8s `KeepalivedNamespace`
   * @param opts passed to the component, and through `parent` to its children
   */
  constructor(name: string, props: KeepalivedNamespaceProps = {}, opts?: pulumi.ComponentResourceOptions) {
    super(KeepalivedNamespace.__pulumiType, name, {}, withImplicitAlias(name, props.name ?? DEFAULT_NAMESPACE, opts));
    const program = programDomain();
    const owner = declareNamespace(program.vrrp, name, props, makingImplicitOwner);
    this.name = owner.name;
    declared(program).set(this.name, this);
    const objects = sharedNamespaceObjects(this.name, { ...owner, labels: props.labels, annotations: props.annotations });
    const byId = new Map(objects.map(({ id, object }) => {
      const fields = ['metadata', ...contentFields(object)];
      const child = id === NAMESPACE_ID ? `${name}-namespace` : `${name}-agent`;
      return [id, kubernetesObject(child, object, fields, Promise.resolve(object), { parent: this })];
    }));
    this.resources = [...byId.values()];
    this.namespace = byId.get(NAMESPACE_ID) as k8s.core.v1.Namespace | undefined;
    this.agentConfigMap = byId.get(AGENT_CONFIG_MAP_ID) as k8s.core.v1.ConfigMap | undefined;
    this.registerOutputs({});
  }
}

/**
 * The options of a namespace's owner named `name`, with an alias to the URN of the owner that the
 * program creates when none is declared (named after the namespace, at the top of the stack), unless
 * this is that URN: declaring an owner for a namespace whose objects exist renames nothing.
 */
function withImplicitAlias(name: string, namespace: string, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions | undefined {
  if (name === namespace && opts?.parent === undefined) return opts;
  return { ...opts, aliases: [...(opts?.aliases ?? []), pulumi.createUrn(namespace, KeepalivedNamespace.__pulumiType)] };
}

/** The type whose provider a cluster's and a namespace's Kubernetes resources use. */
const KUBERNETES_TYPE = 'kubernetes:core/v1:Namespace';

/** The Kubernetes provider that a component's children use; undefined: the default provider. */
export function kubernetesProviderOf(component: pulumi.ComponentResource): pulumi.ProviderResource | undefined {
  return component.getProvider(KUBERNETES_TYPE);
}

const providerName = (provider: pulumi.ProviderResource | undefined) => (provider ? `provider ${pulumi.resourceName(provider)}` : 'the default provider');

const owners = new WeakMap<ProgramDomain, Map<string, KeepalivedNamespace>>();
const needs = new WeakMap<ProgramDomain, Map<string, Promise<pulumi.Resource[]>>>();
/** What one cluster needs of its namespace's shared objects. */
export interface NamespaceUse {
  /** The cluster's resource name, for messages. */
  readonly path: string;
  /** The Kubernetes provider of the cluster's resources (undefined: the default provider). */
  readonly provider: pulumi.ProviderResource | undefined;
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
export function namespaceResources(program: ProgramDomain, name: string, use: NamespaceUse): Promise<pulumi.Resource[]> {
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
      const declaredOwner = declared(program).get(name);
      const provider = declaredOwner ? kubernetesProviderOf(declaredOwner) : all[0].provider;
      if (all.some((u) => u.provider !== provider)) throw differentProvidersError(name, all, declaredOwner);
      return (declaredOwner ?? implicitOwner(name, wanted, provider)).resources;
    }).result;
    byName.set(name, resources);
  }
  return resources;
}

/** Set while the program makes a namespace's owner for its clusters (none was declared). */
let makingImplicitOwner = false;

function implicitOwner(name: string, wanted: Pick<NamespaceOwner, 'createNamespace' | 'agentConfigMap'>, provider: pulumi.ProviderResource | undefined) {
  makingImplicitOwner = true;
  try {
    return new KeepalivedNamespace(name, { name, ...wanted }, { provider });
  } finally {
    makingImplicitOwner = false;
  }
}

/**
 * Clusters of one namespace that deploy with different Kubernetes providers (to different Kubernetes
 * clusters, as a rule): the Namespace and the agent ConfigMap would exist with one provider only.
 */
function differentProvidersError(name: string, uses: readonly NamespaceUse[], declaredOwner: KeepalivedNamespace | undefined): KeepalivedConfigError {
  const who = uses.map((u) => `[${u.path}] with ${providerName(u.provider)}`);
  if (declaredOwner) who.unshift(`its KeepalivedNamespace [${pulumi.resourceName(declaredOwner)}] with ${providerName(kubernetesProviderOf(declaredOwner))}`);
  return new KeepalivedConfigError([{
    path: uses.map((u) => u.path).join(', '),
    field: 'target.namespace',
    value: name,
    problem: `is used with different Kubernetes providers (${who.join('; ')}), but its Namespace and agent ConfigMap are created with one`,
    expected: 'one provider for the clusters of a namespace and its KeepalivedNamespace (a namespace name of its own per provider), or a Pulumi stack per Kubernetes cluster',
  }]);
}
