import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { ClusterObject, declareNamespace, DEFAULT_NAMESPACE, KeepalivedNamespaceProps, NamespaceOwner, sharedNamespaceObjects } from '../core';
import { domainOf, validateInDomain } from './domain';
import { emitObject } from './manifest-object';

/**
 * What the standalone clusters of one namespace share: the Namespace (labelled for Pod Security
 * `privileged`, unless it exists already) and the node agent's ConfigMap. No cluster owns them, so
 * removing or reordering clusters never moves or deletes what another cluster still uses.
 *
 * Declare one to choose where these objects live (which chart, which labels). When a namespace has
 * none, its clusters' chart gets one implicitly, with the id `KeepalivedNamespace-<namespace>`;
 * clusters of several charts sharing a namespace need an explicit one.
 *
 * @example
 * new KeepalivedNamespace(chart, 'keepalived-ns', { name: 'keepalived' });
 */
export class KeepalivedNamespace extends Construct {
  /**
   * The namespace's owner for clusters in `scope`'s chart: the app's declared one, or the implicit one
   * of that chart.
   *
   * @internal
   */
  public static _forCluster(scope: IConstruct, name: string, createNamespace: boolean | undefined): KeepalivedNamespace {
    const owner = KeepalivedNamespace._of(scope, name);
    if (!owner) {
      const implicit = new KeepalivedNamespace(Chart.of(scope), `KeepalivedNamespace-${name}`, { name, createNamespace });
      implicit.implicit = true;
      return implicit;
    }
    // An implicit owner emits the Namespace unless some cluster in it says the namespace exists,
    // whatever the clusters' order.
    if (owner.implicit && createNamespace === false && owner.namespace !== undefined) owner._withdrawNamespace();
    return owner;
  }

  /**
   * The current owner of a namespace in `scope`'s app, if any.
   *
   * @internal
   */
  public static _of(scope: IConstruct, name: string): KeepalivedNamespace | undefined {
    return owners.get(scope.node.root)?.get(name);
  }

  /**
   * Stops emitting the Namespace: an implicit owner, when a cluster in it says the namespace exists.
   *
   * @internal
   */
  public _withdrawNamespace(): void {
    this.node.tryRemoveChild('Resource');
    this.namespaceObject = undefined;
    const domain = domainOf(this);
    domain.removeNamespace(this.owner);
    this.owner = { ...this.owner, createNamespace: false };
    domain.addNamespace(this.owner);
  }

  /**
   * Why a cluster in `scope` cannot use this owner, if it cannot: an implicit owner serves one chart.
   *
   * @internal
   */
  public _problemFor(scope: IConstruct): string | undefined {
    if (!this.implicit || Chart.of(scope) === Chart.of(this)) return undefined;
    return `namespace ${this.name} is shared by standalone clusters in charts ${Chart.of(this).node.path} and ${Chart.of(scope).node.path}, `
      + `so which chart emits the Namespace would depend on their order. Valid: declare \`new KeepalivedNamespace(chart, 'id', { name: '${this.name}' })\` in the chart that should own it`;
  }

  /** The namespace's name. */
  public readonly name: string;

  /** The Namespace object, unless `createNamespace` is false. */
  public get namespace(): ApiObject | undefined {
    return this.namespaceObject;
  }

  private namespaceObject?: ApiObject;

  /** The ConfigMap with the bundled node agent, which every standalone pod in the namespace mounts. */
  public readonly agentConfigMap: ApiObject;

  private owner: NamespaceOwner;
  private implicit = false;

  constructor(scope: Construct, id: string, props: KeepalivedNamespaceProps = {}) {
    super(scope, id);
    const name = props.name ?? DEFAULT_NAMESPACE;
    const byName = owners.get(this.node.root) ?? new Map<string, KeepalivedNamespace>();
    owners.set(this.node.root, byName);
    const implicit = byName.get(name);
    if (implicit?.implicit) {
      // A namespace declared after its clusters replaces the owner they made implicitly.
      implicit.node.scope?.node.tryRemoveChild(implicit.node.id);
      domainOf(this).removeNamespace(implicit.owner);
    }
    this.owner = declareNamespace(domainOf(this), this.node.path, props);
    this.name = this.owner.name;
    byName.set(this.name, this);
    validateInDomain(this);
    const objects = sharedNamespaceObjects(this.name, { createNamespace: this.owner.createNamespace, labels: props.labels, annotations: props.annotations });
    const emitted = objects.map((o: ClusterObject) => emitObject(this, o, () => o.object));
    this.namespaceObject = this.owner.createNamespace ? emitted[0] : undefined;
    this.agentConfigMap = emitted[emitted.length - 1];
  }
}

const owners = new WeakMap<IConstruct, Map<string, KeepalivedNamespace>>();
