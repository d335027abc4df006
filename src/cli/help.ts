/** The help texts: one per command, and the overview. */
import { DEFAULT_AGENT_IMAGE, DEFAULT_KEEPALIVED_IMAGE, DEFAULT_KEEPALIVED_VERSION, DEFAULT_METRICS_PORT } from '../core';

/** The options of --target standalone, for the usage lines. */
const STANDALONE_USAGE = `STANDALONE OPTIONS: [--namespace NS] [--node-order a,b,c] [--discovery] [--sidecar native|classic]
                                              [--keepalived-image IMAGE [--keepalived-version X.Y.Z]]
                                              [--agent-image IMAGE [--agent-in-image]]`;

/** The exit statuses of the commands that print (every one). */
const EXIT_STATUS = (ok: string, invalid: string) => `Exit status: 0 ${ok}, 1 ${invalid}, 2 usage, 74 the output could not be written, 141 the output's
reader closed the pipe (as SIGPIPE).`;

export const OVERVIEW = `keepalived-constructs: check, render and import Deckhouse KeepalivedInstance YAML

Usage:
  keepalived-constructs validate -f FILE... [--target deckhouse|standalone [STANDALONE OPTIONS]]
  keepalived-constructs render   -f FILE... [--target deckhouse|standalone [STANDALONE OPTIONS]] [-o DIR]
                          ${STANDALONE_USAGE}
  keepalived-constructs import   -f FILE... [--framework cdk8s|pulumi]
  keepalived-constructs COMMAND --help

Commands:
  validate   check the documents with every rule the constructs apply, across all files
  render     print the manifests for the Deckhouse module or for the standalone DaemonSet
  import     print a TypeScript program (cdk8s or Pulumi) that synthesizes exactly the input

FILE is a KeepalivedInstance YAML file (several documents separated by ---), a directory (its *.yaml
and *.yml files), or - for stdin.

${EXIT_STATUS('ok', 'invalid input (each error names the file, line, column and field)')}
Warnings (valid input that the target would not honour) go to stderr and keep the status.
`;

const FILES = `  -f, --filename FILE...   KeepalivedInstance YAML: files, directories (their *.yaml, *.yml), - for stdin.
                           Repeat -f or list several files after it.`;

const TARGET = `  --target deckhouse|standalone
                           deckhouse (default): the KeepalivedInstance objects, for the Deckhouse module.
                           standalone: a keepalived DaemonSet and what it needs (Namespace, ServiceAccount,
                           ConfigMap with the node agent), with the same VRIDs, for clusters without it.
                           Its agents serve metrics on port ${DEFAULT_METRICS_PORT} of the node; instances on the same nodes
                           take the next free port, in the order of their names, whatever the order of the
                           files (a new instance whose name sorts first moves the others' ports).
  --namespace NS           standalone only: the namespace of its objects (default: keepalived).
  --node-order a,b,c       standalone only: the nodes in the order that spreads masters; with N groups on
                           N nodes each node is master of one group, as the Deckhouse module does.
  --discovery              standalone only: discovery mode: the node agent learns the nodes from the
                           Kubernetes API and publishes each group's master as a Lease.
  --sidecar native|classic standalone only: the agent's sidecar as a native sidecar (default; Kubernetes
                           1.29+) or as a plain second container (older clusters)
  --keepalived-image IMAGE standalone only: an image with keepalived >= 2.0.20 (default: ${DEFAULT_KEEPALIVED_IMAGE})
  --keepalived-version X.Y.Z
                           standalone only: the keepalived version of --keepalived-image; features it lacks
                           are errors (default: ${DEFAULT_KEEPALIVED_VERSION}, the default image's)
  --agent-image IMAGE      standalone only: an image with Node.js >= 20 (default: ${DEFAULT_AGENT_IMAGE})
  --agent-in-image         standalone only: --agent-image has this package's agent baked in, so no agent
                           ConfigMap is emitted or mounted`;

export const HELP: Record<string, string> = {
  validate: `Usage: keepalived-constructs validate -f FILE... [--target deckhouse|standalone [STANDALONE OPTIONS]]
                          ${STANDALONE_USAGE}

Checks KeepalivedInstance documents with every rule the constructs apply, as one app: each document's
fields (VRIDs 1..255, IPv4 addresses with their prefix, interface selectors, labels, tolerations) and
the rules across all documents and files (a VRID used twice, one virtual IP in two groups, a name
used twice). Unknown fields, a wrong apiVersion or kind, YAML syntax errors and empty files are errors.

Each error is printed as FILE:LINE:COLUMN: FIELD = VALUE: what is wrong. Valid: what would be.

Options:
${FILES}
${TARGET}
  -h, --help               this help

${EXIT_STATUS('valid', 'invalid')}

Example:
  keepalived-constructs validate -f front.yaml gateway.yaml
`,
  render: `Usage: keepalived-constructs render -f FILE... [--target deckhouse|standalone [STANDALONE OPTIONS]] [-o DIR]
                          ${STANDALONE_USAGE}

Prints the manifests for the documents, the same bytes \`cdk8s synth\` writes for the equivalent
constructs. With --target deckhouse (the default), a valid file comes out as the same objects
(comments, quoting, key order, empty maps and explicit defaults such as preempt: true aside). With
--target standalone, it is a keepalived DaemonSet and what it needs, keeping every VRID, so that a
cluster can move off the Deckhouse module without any virtual IP changing its VRID; an instance's
labels and annotations go onto every object of its cluster. The input is checked first, as by validate.

Options:
${FILES}
${TARGET}
  -o, --output-dir DIR     write one file per instance, DIR/<name>.k8s.yaml, instead of printing; with
                           --target standalone also DIR/00-namespace.<NS>.k8s.yaml, the Namespace and the
                           agent ConfigMap that every instance's pods need: apply it first
  -h, --help               this help

${EXIT_STATUS('rendered', 'invalid input')}

Examples:
  keepalived-constructs render -f front.yaml
  keepalived-constructs render -f front.yaml --target standalone --node-order node-a,node-b,node-c -o out/
`,
  import: `Usage: keepalived-constructs import -f FILE... [--framework cdk8s|pulumi]

Prints a TypeScript program against the public API of keepalived-constructs that synthesizes exactly
the documents: FrontendVips where every VRRP group holds one address on one shared interface,
GatewayPair for one group of a LAN and a WAN address, KeepalivedCluster otherwise. Names and VRIDs
are pinned. The input is checked first, as by validate.

Options:
${FILES}
  --framework cdk8s|pulumi cdk8s (default): an App with one Chart; pulumi: components from
                           'keepalived-constructs/pulumi'
  -h, --help               this help

${EXIT_STATUS('printed', 'invalid input')}

Example:
  keepalived-constructs import -f front.yaml > main.ts
`,
};
