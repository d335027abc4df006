/** One thing wrong with the input: where, which field, which value, and what would be valid. */
export interface ValidationIssue {
  /** The construct path (cdk8s) or resource name (Pulumi) of the owner. */
  readonly path: string;
  /** The prop, in the user's terms, e.g. `addresses[1]` or `lan.interface`. */
  readonly field: string;
  /** The offending value. */
  readonly value: unknown;
  /** What is wrong with it. */
  readonly problem: string;
  /** What would be valid. */
  readonly expected: string;
}

/** A Pulumi Output where a prop wants a value: its JSON would be Pulumi's text on calling `toJSON`. */
const PULUMI_OUTPUT = 'a Pulumi Output: props take plain values (declare the component inside apply(), or pass the value itself)';

/** Whether a value is a Pulumi Output (it is no plain value of a prop, whatever fields it has). */
export function isPulumiOutput(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { __pulumiOutput?: unknown }).__pulumiOutput === true;
}

/** What kind of value a value is, for a message that must not show it (a password). */
export function describeKind(value: unknown): string {
  return isPulumiOutput(value) ? PULUMI_OUTPUT : `a ${value === null ? 'null' : typeof value}`;
}

/** Renders a value for a message: strings quoted, everything else as JSON (a Pulumi Output as what it is). */
export function showValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (isPulumiOutput(value)) return `(${PULUMI_OUTPUT})`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  // (JSON shows both as {}, which reads as an empty map.)
  if (value instanceof Map) return `(a Map of ${value.size})`;
  if (value instanceof Set) return `(a Set of ${value.size})`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The message of an issue, without its path (cdk8s validation prefixes the path itself). */
export function describeIssue(issue: ValidationIssue): string {
  return `${issue.field} = ${showValue(issue.value)}: ${issue.problem}. Valid: ${issue.expected}.`;
}

/** The message of an issue, with its path. */
export function describeIssueAt(issue: ValidationIssue): string {
  return `[${issue.path}] ${describeIssue(issue)}`;
}

/** Thrown for input that would produce a manifest the cluster or the node would reject. */
export class KeepalivedConfigError extends Error {
  /** Every issue, one per problem. */
  public readonly issues!: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    super(issues.map(describeIssueAt).join('\n'));
    this.name = 'KeepalivedConfigError';
    // Printed uncaught (by node, ts-node, cdk8s or Pulumi), an error shows its stack and its own
    // enumerable fields: the message already names the construct, the field and the value, so each
    // problem prints once, as the README shows it, and nothing else.
    Object.defineProperty(this, 'issues', { value: [...issues], enumerable: false });
    asUserError(this);
  }
}

/**
 * Makes an error whose message says all a user needs print as just that: no stack trace below it,
 * and a message that stays what it says, once. Frameworks that re-throw an error prefix its message
 * with where they met it (Pulumi's "error serializing property ..." for each field it passes).
 */
export function asUserError<T extends Error>(error: T): T {
  error.stack = `${error.name}: ${error.message}`;
  const message = error.message;
  Object.defineProperty(error, 'message', { get: () => message, set: () => undefined, enumerable: false, configurable: true });
  return error;
}

/** Throws a KeepalivedConfigError when there are issues. */
export function throwIfIssues(issues: readonly ValidationIssue[]): void {
  if (issues.length > 0) throw new KeepalivedConfigError([...issues]);
}
