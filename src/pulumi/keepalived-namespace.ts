import * as pulumi from '@pulumi/pulumi';
import { declareNamespace, DEFAULT_NAMESPACE, KeepalivedNamespaceProps, sharedNamespaceObjects } from '../core';
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

  /** The ConfigMap with the bundled node agent. */
  public readonly agentConfigMap: pulumi.CustomResource;

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
    const objects = sharedNamespaceObjects(this.name, { createNamespace: owner.createNamespace, labels: props.labels, annotations: props.annotations });
    this.resources = objects.map(({ id, object }) => {
      const fields = Object.keys(object).filter((k) => k !== 'apiVersion' && k !== 'kind');
      const child = id === 'Resource' ? `${name}-namespace` : `${name}-agent`;
      return kubernetesObject(child, object, fields, Promise.resolve(object), { parent: this });
    });
    this.namespace = owner.createNamespace ? this.resources[0] : undefined;
    this.agentConfigMap = this.resources[this.resources.length - 1];
    this.registerOutputs({});
  }
}

const owners = new WeakMap<ProgramDomain, Map<string, KeepalivedNamespace>>();
const needs = new WeakMap<ProgramDomain, Map<string, Promise<pulumi.Resource[]>>>();
const createNamespaceWanted = new WeakMap<ProgramDomain, Map<string, (boolean | undefined)[]>>();

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
export function namespaceResources(program: ProgramDomain, name: string, createNamespace: boolean | undefined,
  opts: pulumi.ComponentResourceOptions | undefined): Promise<pulumi.Resource[]> {
  let byName = needs.get(program);
  if (!byName) needs.set(program, byName = new Map());
  let wanted = createNamespaceWanted.get(program);
  if (!wanted) createNamespaceWanted.set(program, wanted = new Map());
  // The Namespace is emitted unless some cluster in it says the namespace exists, whatever their order.
  wanted.set(name, [...(wanted.get(name) ?? []), createNamespace]);
  let resources = byName.get(name);
  if (!resources) {
    resources = program.join(`namespace ${name}`, () => '', () => {
      const create = !wanted!.get(name)!.includes(false);
      const owner = declared(program).get(name)
        ?? new KeepalivedNamespace(name ?? DEFAULT_NAMESPACE, { name, createNamespace: create }, { provider: opts?.provider, providers: opts?.providers, dependsOn: opts?.dependsOn });
      return owner.resources;
    }).result;
    byName.set(name, resources);
  }
  return resources;
}
