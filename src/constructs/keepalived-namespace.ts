import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import {
  AGENT_CONFIG_MAP_ID, declareNamespace, DEFAULT_NAMESPACE, ImplicitNamespaceOptions, implicitNamespaceOptions, KeepalivedConfigError, KeepalivedNamespaceProps, NAMESPACE_ID, NamespaceOwner,
  NamespaceUse, sharedNamespaceObjects, withNamespaceUse,
} from '../core';
import { domainOf, validateInDomain } from './domain';
import { emitObject } from './manifest-object';

/**
 * What the standalone clusters of one namespace share: the Namespace (labelled for Pod Security
 * `privileged`, unless it exists already) and the node agent's ConfigMap. No cluster owns them, so
 * removing or reordering clusters never moves or deletes what another cluster still uses.
 *
 * Declare one to choose where these objects live (which chart, which labels). When a namespace has
 * none, its clusters' chart gets one implicitly, with the id `KeepalivedNamespace-<namespace>`;
 * clusters of several charts sharing a namespace need an explicit one, as do clusters that disagree on
 * `createNamespace` (whether the Namespace is emitted would otherwise depend on which clusters there are).
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
  public static _forCluster(scope: IConstruct, name: string, createNamespace: boolean | undefined, needsAgentConfigMap: boolean): KeepalivedNamespace {
    const byName = clusters.get(scope.node.root) ?? new Map<string, IConstruct[]>();
    clusters.set(scope.node.root, byName);
    const members = byName.get(name) ?? [];
    byName.set(name, members);
    members.push(scope);
    const use: NamespaceUse = { path: scope.node.path, createNamespace, agentConfigMap: needsAgentConfigMap };
    let owner = KeepalivedNamespace._of(scope, name);
    if (!owner) {
      makingImplicitOwner = true;
      try {
        owner = new KeepalivedNamespace(Chart.of(scope), `KeepalivedNamespace-${name}`, { name, ...implicitNamespaceOptions([use]) });
      } finally {
        makingImplicitOwner = false;
      }
    } else {
      // An implicit owner emits what its clusters ask, whatever their order (core's rule; the domain
      // reports clusters that disagree on whether the namespace exists).
      if (owner.implicit) owner.reown(withNamespaceUse(owner.owner, use));
      owner.comeBefore(scope, true);
    }
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

  /**
   * The Namespace object, unless `createNamespace` is false. Declare the namespace's
   * `KeepalivedNamespace` before taking this from the owner its clusters made (a cluster's `namespace`):
   * declared afterwards, it would replace the object taken, so that is an error. A handle to a replaced
   * owner gives the declared owner's objects.
   */
  public get namespace(): ApiObject | undefined {
    return this.handOut(NAMESPACE_ID, 'Namespace');
  }

  /**
   * The ConfigMap with the bundled node agent, which the standalone pods in the namespace mount; none
   * when every cluster in it has the agent in its image.
   */
  public get agentConfigMap(): ApiObject | undefined {
    return this.handOut(AGENT_CONFIG_MAP_ID, 'agent ConfigMap');
  }

  private owner: NamespaceOwner;
  private readonly implicit: boolean;
  /** The object of an implicit owner that the program took (and may have patched or labelled), if any. */
  private handedOut?: string;
  /** The owner declared after this implicit one, which emits the namespace's objects in its place. */
  private replacedBy?: KeepalivedNamespace;

  constructor(scope: Construct, id: string, props: KeepalivedNamespaceProps = {}) {
    super(scope, id);
    // (null props are declareNamespace's to report)
    const name = props?.name ?? DEFAULT_NAMESPACE;
    const byName = owners.get(this.node.root) ?? new Map<string, KeepalivedNamespace>();
    owners.set(this.node.root, byName);
    const implicit = byName.get(name);
    if (implicit?.implicit) {
      if (implicit.handedOut) {
        throw new KeepalivedConfigError([{
          path: this.node.path, field: 'name', value: name,
          problem: `would replace ${implicit.node.path}, the owner that the namespace's clusters made, whose ${implicit.handedOut} object the program has already taken `
            + '(through a cluster\'s namespace): its labels, annotations and patches would be lost',
          expected: 'this KeepalivedNamespace declared before the program reads a cluster\'s namespace objects',
        }]);
      }
      // A namespace declared after its clusters replaces the owner they made implicitly, and what they
      // depended on (the replaced owner would still order the charts, into a cycle if it sat in another).
      for (const cluster of clusters.get(this.node.root)?.get(name) ?? []) cluster.node.removeDependency(implicit);
      implicit.node.scope?.node.tryRemoveChild(implicit.node.id);
      implicit.replacedBy = this;
      domainOf(this).removeNamespace(implicit.owner);
    }
    this.implicit = makingImplicitOwner;
    this.owner = declareNamespace(domainOf(this), this.node.path, props, makingImplicitOwner);
    this.name = this.owner.name;
    byName.set(this.name, this);
    validateInDomain(this);
    this.emit();
    for (const cluster of clusters.get(this.node.root)?.get(this.name) ?? []) this.comeBefore(cluster);
  }

  /**
   * Makes the Namespace and the agent ConfigMap come before a cluster's objects in the output (the
   * namespace must exist before what is created in it). cdk8s emits a chart's objects in construct
   * tree order, so only a cluster that comes earlier in the tree (the one that made an implicit owner,
   * or any declared before an explicit one) needs a dependency, as does a cluster in another chart
   * (the chart of the namespace is then applied first). Depending on no more keeps cdk8s's dependency
   * resolution, which grows with every dependency, out of the synth time of large apps.
   *
   * `created` says the cluster's construct was created after this owner, as in `_forCluster`.
   */
  private comeBefore(cluster: IConstruct, created = false): void {
    if (Chart.of(cluster) !== Chart.of(this) || precedes(cluster, this, created)) cluster.node.addDependency(this);
  }

  /** A shared object, noted as taken when this owner is implicit (a later declared one would replace it). */
  private handOut(id: string, what: string): ApiObject | undefined {
    // A handle to an owner that was replaced gives its replacement's objects, the ones that are emitted.
    if (this.replacedBy) return this.replacedBy.handOut(id, what);
    const object = this.node.tryFindChild(id) as ApiObject | undefined;
    if (object && this.implicit) this.handedOut ??= what;
    return object;
  }

  /** Emits the shared objects that the owner wants and that are not emitted yet; removes the others. */
  private emit(): void {
    const objects = sharedNamespaceObjects(this.name, this.owner);
    const wanted = new Set(objects.map((o) => o.id));
    for (const id of [NAMESPACE_ID, AGENT_CONFIG_MAP_ID]) if (!wanted.has(id)) this.node.tryRemoveChild(id);
    for (const o of objects) if (!this.node.tryFindChild(o.id)) emitObject(this, o, () => o.object);
  }

  /** Changes what an implicit owner emits, as its clusters require. */
  private reown(change: ImplicitNamespaceOptions): void {
    if (change.createNamespace === this.owner.createNamespace && change.agentConfigMap === this.owner.agentConfigMap) return;
    const domain = domainOf(this);
    domain.removeNamespace(this.owner);
    this.owner = { ...this.owner, ...change };
    domain.addNamespace(this.owner);
    this.emit();
  }
}

const owners = new WeakMap<IConstruct, Map<string, KeepalivedNamespace>>();
/** The standalone clusters of each namespace, by app. */
const clusters = new WeakMap<IConstruct, Map<string, IConstruct[]>>();
/** Set while a cluster makes its namespace's owner (none was declared). */
let makingImplicitOwner = false;

/**
 * Whether `a` comes before `b` in the construct tree: depth first, children in the order of their
 * scope's `node.children` (the order they were added, except that ids which are array indices, such
 * as `'7'`, come first in numeric order, as in any JavaScript object).
 *
 * With `aCreatedAfterB`, when `a` itself is `b`'s branch's sibling, the answer needs no scan of the
 * siblings (which would make declaring N clusters cost N²): `a`, added last, comes after every sibling
 * unless its id is an array index.
 */
function precedes(a: IConstruct, b: IConstruct, aCreatedAfterB = false): boolean {
  const [pathA, pathB] = [a.node.scopes, b.node.scopes];
  let i = 0;
  while (i < pathA.length && i < pathB.length && pathA[i] === pathB[i]) i++;
  if (i === pathA.length || i === pathB.length) return i === pathA.length;
  if (aCreatedAfterB && pathA[i] === a && !isArrayIndex(a.node.id)) return false;
  const siblings = pathA[i - 1].node.children;
  return siblings.indexOf(pathA[i]) < siblings.indexOf(pathB[i]);
}

/** Whether a property key is an array index, which JavaScript orders before the other keys. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 2 ** 32 - 1;
}
