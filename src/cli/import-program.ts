/**
 * `import`: a TypeScript program against the public API that synthesizes exactly the given
 * KeepalivedInstance objects. Each instance becomes the construct whose shape it has: FrontendVips
 * (one address per VRRP group, all on one interface), GatewayPair (one group: a LAN address on the VRRP
 * interface and a WAN address on its own), or KeepalivedCluster. Names and VRIDs are pinned, so the
 * program's output is the input, whatever else the app holds.
 */
import { KeepalivedInstanceInput, SelectorInput } from './keepalived-instance';
import { preemptProp, Shape, shapeOf } from './shape';

/** The framework the program is written for. */
export type Framework = 'cdk8s' | 'pulumi';

/** Code to print as is (a factory call), not as a literal, with the names of the package it uses. */
class Code {
  constructor(public readonly text: string, public readonly uses: readonly string[]) {}
}

/** The package's names that the Code inside a value uses. */
function usesOf(value: unknown): string[] {
  if (value instanceof Code) return [...value.uses];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(usesOf);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(s: string): string {
  return `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function isSimple(v: unknown): boolean {
  return v instanceof Code || v === null || typeof v !== 'object';
}

/** A value as a TypeScript literal, indented from `indent`: on one line when short and flat, else one entry per line. */
function literal(value: unknown, indent: string): string {
  if (value instanceof Code) return value.text;
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value !== 'object') return String(value);
  const inner = `${indent}  `;
  const key = (k: string) => (IDENTIFIER.test(k) ? k : quote(k));
  const entries: Array<[string | undefined, unknown]> = Array.isArray(value)
    ? value.map((v) => [undefined, v])
    : Object.entries(value).filter(([, v]) => v !== undefined);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{ ', ' }'];
  if (entries.length === 0) return Array.isArray(value) ? '[]' : '{}';
  const item = (k: string | undefined, text: string) => (k === undefined ? text : `${key(k)}: ${text}`);
  const flat = `${open}${entries.map(([k, v]) => item(k, literal(v, indent))).join(', ')}${close}`;
  if (entries.every(([, v]) => isSimple(v)) && flat.length <= 100) return flat;
  return `${open.trim()}\n${entries.map(([k, v]) => `${inner}${item(k, literal(v, inner))},\n`).join('')}${indent}${close.trim()}`;
}

function selector(s: SelectorInput): Code {
  const code = (text: string) => new Code(`InterfaceSelector.${text}`, ['InterfaceSelector']);
  if (s.detectionStrategy === 'Name') return code(`name(${quote(s.name)})`);
  if (s.detectionStrategy === 'NetworkAddress') return code(`networkAddress(${quote(s.networkAddress)})`);
  return code('defaultRoute()');
}

/** A selector prop, or undefined for the default (the default route), which the output spells out anyway. */
const selectorProp = (s: SelectorInput) => (s.detectionStrategy === 'DefaultRoute' ? undefined : selector(s));

/**
 * The target prop: the default (the Deckhouse target) unless the instance has labels or annotations,
 * which `Target.deckhouse()` carries. A construct's props are printed one per line, at this indent.
 */
function targetProp(instance: KeepalivedInstanceInput): Code | undefined {
  if (instance.labels === undefined && instance.annotations === undefined) return undefined;
  return new Code(`Target.deckhouse(${literal({ labels: instance.labels, annotations: instance.annotations }, '  ')})`, ['Target']);
}

/** The props of the instance's construct, as literal values (factory calls as Code). */
function propsOf(instance: KeepalivedInstanceInput, shape: Shape): Record<string, unknown> {
  const common = {
    name: instance.name,
    nodeSelector: instance.nodeSelector,
    selectAllNodes: Object.keys(instance.nodeSelector).length === 0 ? true : undefined,
    tolerations: instance.tolerations && instance.tolerations.length > 0 ? instance.tolerations : undefined,
    target: targetProp(instance),
  };
  const groups = instance.vrrpInstances;
  if (shape === 'GatewayPair') {
    const [lan, wan] = groups[0].virtualIPAddresses;
    return {
      ...common,
      vrid: groups[0].id,
      lan: { address: lan.address, interface: selectorProp(groups[0].interface) },
      wan: { address: wan.address, interface: selector(wan.interface!) },
      preempt: preemptProp(groups[0]),
    };
  }
  if (shape === 'FrontendVips') {
    return {
      ...common,
      addresses: groups.map((g) => g.virtualIPAddresses[0].address),
      vrids: groups.map((g) => g.id),
      interface: selectorProp(groups[0].interface),
      preempt: preemptProp(groups[0]),
    };
  }
  return {
    ...common,
    groups: groups.map((g) => ({
      id: g.id,
      interface: selectorProp(g.interface),
      addresses: g.virtualIPAddresses.map((v) => ({ address: v.address, interface: v.interface ? selector(v.interface) : undefined })),
      preempt: preemptProp(g),
    })),
  };
}

/**
 * The program. `sources` names the input files for its header comment. Construct ids (cdk8s) and
 * resource names (Pulumi) are the instances' names, which are unique in a valid input.
 */
export function importProgram(instances: readonly KeepalivedInstanceInput[], framework: Framework, sources: readonly string[]): string {
  const shapes = instances.map(shapeOf);
  const props = instances.map((instance, i) => propsOf(instance, shapes[i]));
  const literals = props.map((p) => literal(p, ''));
  const names = [...new Set([...shapes, ...props.flatMap(usesOf)])].sort();
  const module = framework === 'pulumi' ? 'keepalived-constructs/pulumi' : 'keepalived-constructs';
  const out: string[] = [
    // (A file name may hold a line break: it would end the comment, and the rest would be code.)
    `// Generated by \`keepalived-constructs import\` from ${sources.map((s) => s.replace(/[\r\n\u2028\u2029]/g, ' ')).join(', ')}.`,
    `// It synthesizes exactly those KeepalivedInstance objects: names and VRIDs are pinned.`,
    `// To run the same VRRP groups without the Deckhouse module, set each construct's \`target\` to`,
    `// \`Target.standalone({ ... })\` (see the README's migration guide).`,
  ];
  if (framework === 'cdk8s') {
    out.push(
      "import { App, Chart } from 'cdk8s';",
      `import { ${names.join(', ')} } from '${module}';`,
      '',
      'const app = new App();',
      "const chart = new Chart(app, 'keepalived');",
      '',
    );
    instances.forEach((instance, i) => out.push(`new ${shapes[i]}(chart, ${quote(instance.name)}, ${literals[i]});`, ''));
    out.push('app.synth();');
  } else {
    out.push(`import { ${names.join(', ')} } from '${module}';`, '');
    instances.forEach((instance, i) => out.push(`new ${shapes[i]}(${quote(instance.name)}, ${literals[i]});`, ''));
    out.pop();
  }
  return `${out.join('\n')}\n`;
}
