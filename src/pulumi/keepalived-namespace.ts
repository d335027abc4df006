import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  AGENT_CONFIG_MAP_ID, contentFields, declareNamespace, ImplicitNamespaceOptions, implicitNamespaceOptions, KeepalivedConfigError,
  KeepalivedNamespaceProps, NAMESPACE_ID, namespaceDisagreement, NamespaceOwner, NamespaceUse as CoreNamespaceUse, sharedNamespaceObjects, throwIfIssues,
} from '../core';
import { asProgramError, ProgramDomain, programDomain } from './domain';
import { kubernetesObject } from './kubernetes-object';

/**
 * What the standalone clusters of one namespace share: the Namespace (unless it exists already) and
 * the node agent's ConfigMap. No cluster owns them, so removing or reordering clusters never changes
 * their URNs (`keepalived-constructs:index:KeepalivedNamespace` named after the namespace), and Pulumi
 * never deletes a namespace that another cluster still uses.
 *
 * Declare one to set its labels or resource options (`protect`, `transformations`, ...), or to make
 * resources of your own in the namespace depend on it (a Secret for `VrrpAuth.fromSecret`). When a
 * namespace has none, one is created for it once the program's declarations have settled, named after
 * the namespace, with the Kubernetes provider of the clusters that use it (all of them must use the
 * same one), protected when one of them is, and no `dependsOn`: what a cluster depends on may itself
 * live in the namespace. Its clusters must then agree on `createNamespace` (else adding or removing one
 * would create the namespace, or delete it). A declared one named otherwise takes over the URNs of the
 * one created before it was declared (through aliases), so declaring one later never deletes the namespace.
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
    // Checked before anything is registered.
    const program = programDomain();
    let owner: NamespaceOwner;
    try {
      owner = declareNamespace(program.vrrp, name, props, makingImplicitOwner);
    } catch (error) {
      throw asProgramError(error);
    }
    super(KeepalivedNamespace.__pulumiType, name, {}, withImplicitAlias(name, owner.name, opts));
    this.name = owner.name;
    if (!owner.implicit) declared(program).set(this.name, this);
    const objects = sharedNamespaceObjects(this.name, owner);
    const byId = new Map<string, pulumi.CustomResource>();
    for (const head of objects) {
      const fields = ['metadata', ...contentFields(head.object)];
      const child = head.id === NAMESPACE_ID ? `${name}-namespace` : `${name}-agent`;
      // The agent ConfigMap goes into the Namespace: created after it, deleted before it.
      const namespace = head.id === NAMESPACE_ID ? undefined : byId.get(NAMESPACE_ID);
      // Built now, the agent ConfigMap's content-made name too: its metadata is all known.
      byId.set(head.id, kubernetesObject(child, head, fields, Promise.resolve(head.object), { parent: this, ...(namespace ? { dependsOn: [namespace] } : {}) }));
    }
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

/**
 * Whether a resource is protected: its own `protect`, or its parent's, which Pulumi passes down
 * (kept where the SDK keeps it; there is no public accessor).
 */
export function isProtected(resource: pulumi.Resource): boolean {
  return (resource as unknown as { __protect?: boolean }).__protect === true;
}

const providerName = (provider: pulumi.ProviderResource | undefined) => (provider ? `provider ${pulumi.resourceName(provider)}` : 'the default provider');

const owners = new WeakMap<ProgramDomain, Map<string, KeepalivedNamespace>>();
/** What a namespace's clusters need of it, and the provider its shared objects were created with. */
interface Namespace {
  readonly uses: NamespaceUse[];
  readonly resources: Promise<pulumi.Resource[]>;
  provider?: { readonly provider: pulumi.ProviderResource | undefined };
}
const namespaces = new WeakMap<ProgramDomain, Map<string, Namespace>>();

/** What one cluster needs of its namespace's shared objects. */
export interface NamespaceUse extends CoreNamespaceUse {
  /** The Kubernetes provider of the cluster's resources (undefined: the default provider). */
  readonly provider: pulumi.ProviderResource | undefined;
  /** Whether the cluster is protected (`protect`, its own or its parent's). */
  readonly protect: boolean;
}

function declared(program: ProgramDomain): Map<string, KeepalivedNamespace> {
  let byName = owners.get(program);
  if (!byName) owners.set(program, byName = new Map());
  return byName;
}

/**
 * The shared resources of a cluster's namespace, once the program's declarations have settled: the
 * declared `KeepalivedNamespace`, or one created then (so that no cluster's order decides it). Throws
 * at once for a cluster declared after they were created with another Kubernetes provider.
 *
 * @internal
 */
export function namespaceResources(program: ProgramDomain, name: string, use: NamespaceUse): Promise<pulumi.Resource[]> {
  let byName = namespaces.get(program);
  if (!byName) namespaces.set(program, byName = new Map());
  const known = byName.get(name);
  if (known) {
    if (known.provider && use.provider !== known.provider.provider) throw asProgramError(differentProvidersError(name, [...known.uses, use], declared(program).get(name)));
    known.uses.push(use);
    return known.resources;
  }
  const uses = [use];
  const namespace: Namespace = {
    uses,
    resources: program.join(`namespace ${name}`, () => '', () => {
      const declaredOwner = declared(program).get(name);
      const provider = declaredOwner ? kubernetesProviderOf(declaredOwner) : uses[0].provider;
      if (uses.some((u) => u.provider !== provider)) throw differentProvidersError(name, uses, declaredOwner);
      namespace.provider = { provider };
      if (declaredOwner) return declaredOwner.resources;
      // Clusters that disagree on whether the namespace exists fail before anything is created.
      throwIfIssues(namespaceDisagreement(name, uses));
      const clash = [...declared(program).values()].find((d) => pulumi.resourceName(d) === name);
      if (clash) throw implicitNameTakenError(name, clash);
      return implicitOwner(name, implicitNamespaceOptions(uses), provider, uses.some((u) => u.protect)).resources;
    }).result,
  };
  byName.set(name, namespace);
  return namespace.resources;
}

/** Set while the program makes a namespace's owner for its clusters (none was declared). */
let makingImplicitOwner = false;

function implicitOwner(name: string, wanted: ImplicitNamespaceOptions, provider: pulumi.ProviderResource | undefined, protect: boolean) {
  makingImplicitOwner = true;
  try {
    return new KeepalivedNamespace(name, { name, ...wanted }, { provider, ...(protect ? { protect } : {}) });
  } finally {
    makingImplicitOwner = false;
  }
}

/** A declared owner of another namespace has the resource name that the owner made for this one's clusters takes. */
function implicitNameTakenError(name: string, clash: KeepalivedNamespace): KeepalivedConfigError {
  return new KeepalivedConfigError([{
    path: pulumi.resourceName(clash), field: 'name (the resource name)', value: pulumi.resourceName(clash),
    problem: `is the resource name of the KeepalivedNamespace that the program makes for namespace ${name}, which has standalone clusters and no KeepalivedNamespace, `
      + `but this one owns namespace ${clash.name}`,
    expected: `a KeepalivedNamespace for namespace ${name} too, or another resource name for this one (e.g. ${clash.name})`,
  }]);
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
