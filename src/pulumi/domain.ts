/**
 * The VRRP domain of a Pulumi program. VRIDs are allocated program-wide, so a component's manifests can
 * only be produced once the program has declared every component. A Pulumi program has no "synth" step
 * that says so; instead, the domain settles one turn of the event loop (a `setImmediate`) after the last
 * declaration, and each new declaration re-arms that turn. Only then are the components' outputs, and
 * the content of their Kubernetes resources, produced.
 *
 * A program that declares components, awaits I/O and declares more settles twice. The later batch is
 * produced from the whole domain, and fails when it would change what the earlier batch produced (a
 * VRID, or an issue), since those resources have already gone to the engine.
 */
import * as pulumi from '@pulumi/pulumi';
import { asUserError, describeIssueAt, KeepalivedConfigError, ValidationIssue, VrrpDomain } from '../core';

/** What a member of the domain receives when it joins. */
export interface Membership<T> {
  /** The member's results: produced once the program's declarations have settled, or failed. */
  readonly result: Promise<T>;
  /** Whether the results were produced or failed, so that the member can no longer change. */
  readonly settled: boolean;
}

interface Member {
  readonly path: string;
  /** What the member's results depend on in the domain, in words (its VRIDs and issues). */
  readonly outcome: () => string;
  readonly produce: () => void;
  readonly fail: (error: unknown) => void;
}

/** The program's VrrpDomain, with the event-loop turn after which its members' results are produced. */
export class ProgramDomain {
  /** The clusters and reservations of the program. */
  public readonly vrrp = new VrrpDomain();
  private pending: Member[] = [];
  private readonly produced: { member: Member; outcome: string }[] = [];
  private timer?: NodeJS.Immediate;

  /**
   * Adds a member. `produce` runs when the domain settles (after every member declared so far), and
   * its value or error becomes the membership's result. `outcome` describes, in words, what of the
   * domain the result depends on.
   */
  public join<T>(path: string, outcome: () => string, produce: () => T): Membership<T> {
    let settled = false;
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const result = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    this.pending.push({
      path,
      outcome,
      produce: () => { settled = true; resolve(produce()); },
      fail: (error) => { settled = true; reject(asProgramError(error)); },
    });
    this.changed();
    return { result, get settled() { return settled; } };
  }

  /** Re-arms the settling turn: call it after each declaration. */
  public changed(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = setImmediate(() => this.settle());
  }

  /** Cancels a pending settle (tests only). */
  public dispose(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    const changed = this.produced.filter(({ member, outcome }) => member.outcome() !== outcome);
    const late = changed.length > 0 ? lateDeclarationError(batch, changed.map(({ member, outcome }) => ({ member, before: outcome }))) : undefined;
    for (const member of batch) {
      try {
        if (late) member.fail(late);
        else member.produce();
      } catch (error) {
        member.fail(error);
      }
    }
    for (const member of batch) this.produced.push({ member, outcome: member.outcome() });
  }
}

function lateDeclarationError(batch: Member[], changed: { member: Member; before: string }[]): Error {
  const paths = (members: Member[]) => members.map((m) => `[${m.path}]`).join(', ');
  const changes = changed.map(({ member, before }) => `[${member.path}] ${before} -> ${member.outcome()}`).join('; ');
  return markRunError(asUserError(new Error(`${paths(batch)}: declared after ${paths(changed.map((c) => c.member))} had been produced `
    + `(the program awaited, or declared them inside apply()), and they change what was produced: ${changes}. `
    + 'Valid: declare every keepalived component before the program first awaits, or pin their VRIDs.')));
}

/** An outcome in words: the VRIDs a member got and the issues it has. */
export function describeOutcome(vrids: readonly (number | undefined)[] | undefined, issues: readonly ValidationIssue[]): string {
  const parts = vrids ? [`VRIDs [${vrids.join(', ')}]`] : [];
  parts.push(issues.length > 0 ? `issues: ${issues.map(describeIssueAt).join(' ')}` : 'no issues');
  return parts.join(', ');
}

/**
 * Marks a KeepalivedConfigError as one Pulumi reports as it is: its message alone, without a stack
 * trace or "Running program ... failed with an unhandled exception" (Pulumi's RunError contract).
 * Other errors pass through unchanged.
 */
export function asProgramError(error: unknown): unknown {
  if (error instanceof KeepalivedConfigError) markRunError(error);
  return error;
}

/** Marks an error as one Pulumi reports by its message alone (Pulumi's RunError contract). */
function markRunError(error: Error): Error {
  return Object.assign(error, { __pulumiRunError: true });
}

/** The domain of each program run, by its root Stack resource. */
const domains = new WeakMap<object, ProgramDomain>();
/** The domain of resources declared outside a program run (no Stack resource: unit tests under mocks). */
let outsideRun: ProgramDomain | undefined;

/**
 * The domain of the running Pulumi program. Each run has its own, keyed by the run's root Stack
 * resource: the Automation API runs an inline program in the caller's process, once per `preview`,
 * `up` or stack, and a run must not see the components of the one before. Messages name components
 * by their resource name, the Pulumi counterpart of a construct path.
 */
export function programDomain(): ProgramDomain {
  const run = pulumi.runtime.getStackResource();
  if (run === undefined) return (outsideRun ??= new ProgramDomain());
  let domain = domains.get(run);
  if (!domain) {
    domain = new ProgramDomain();
    domains.set(run, domain);
  }
  return domain;
}

/**
 * Forgets every component declared outside a program run so far, so that one test file can run
 * several independent programs under mocks.
 *
 * @internal
 */
export function resetVrrpDomainForTests(): void {
  outsideRun?.dispose();
  outsideRun = undefined;
}
