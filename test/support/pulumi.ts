/**
 * Running Pulumi programs under `pulumi.runtime.setMocks`: what each resource registration carried, the
 * values of outputs, and the program's failures.
 */
import * as vm from 'vm';
import * as pulumi from '@pulumi/pulumi';
import { resetVrrpDomainForTests } from '../../src/pulumi/domain';

/** One resource registration as the mocks saw it. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: any;
  /** The provider reference (`urn::id`) of a custom resource. */
  readonly provider?: string;
  readonly custom?: boolean;
}

/**
 * A fresh Pulumi program: mocks that record every registration (and return the inputs as the state),
 * and an empty VRRP domain. Call it before the program declares resources.
 */
export async function newProgram(
  onNewResource: (args: pulumi.runtime.MockResourceArgs) => Promise<void> | void = () => undefined,
): Promise<Registration[]> {
  resetVrrpDomainForTests();
  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks({
    newResource: async (args) => {
      registrations.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, custom: args.custom });
      await onNewResource(args);
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  }, 'project', 'stack', false);
  return registrations;
}

/** The value of an output that succeeds. */
export const value = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

/** The value or the error of an output (`apply` never runs for a failed output, so this reads the promise). */
export const settled = <T>(output: pulumi.Output<T>): Promise<T> => (output as any).promise();

/** Waits until every resource has been registered with the mocks. */
export async function registered(resources: readonly pulumi.Resource[]): Promise<string[]> {
  return value(pulumi.all(resources.map((r) => r.urn)));
}

/** The logical name in a URN. */
export const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf('::') + 2);

const SECRET_SIG = pulumi.runtime.specialSigKey;

/** Whether a registered input value is a Pulumi secret. */
export const isSecret = (value: any) => value !== null && typeof value === 'object' && value[SECRET_SIG] === pulumi.runtime.specialSecretSig;

/** A registered input with its secrets unwrapped, and as JSON (so undefined and missing fields are the same). */
export function plain(value: any): any {
  const unwrap = (v: any): any => {
    if (isSecret(v)) return unwrap(v.value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    return v;
  };
  return JSON.parse(JSON.stringify(unwrap(value)));
}

/**
 * The errors that fail a Pulumi program while `run` runs and for `ms` after. Pulumi fails a program
 * through unhandled rejections (its language host reports them, once per error identity), which Jest
 * would otherwise report as test failures.
 */
export async function programFailures(run: () => Promise<unknown> | unknown, ms = 100): Promise<unknown[]> {
  // Jest's `process` is a copy with its own listeners; Node emits unhandled rejections on the real one,
  // which is the global of the context that runs Jest.
  const process = vm.runInThisContext('process') as NodeJS.Process;
  const errors = new Set<unknown>();
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const listener = (reason: unknown) => { errors.add(reason); };
  process.on('unhandledRejection', listener);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    process.off('unhandledRejection', listener);
    for (const l of saved) process.on('unhandledRejection', l as (...args: any[]) => void);
  }
  return [...errors];
}
