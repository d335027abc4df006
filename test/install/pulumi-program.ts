// A newcomer's Pulumi program under mocks (no Pulumi CLI, no cluster), against the public API only.
import * as pulumi from '@pulumi/pulumi';

const registered: Array<{ type: string; name: string; inputs: any }> = [];
pulumi.runtime.setMocks({
  newResource: (args) => {
    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call: (args) => args.inputs,
}, 'newcomer', 'dev', false);

async function main() {
  const { FrontendVips } = await import('keepalived-constructs/pulumi');
  const front = new FrontendVips('front', {
    name: 'front',
    nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
    addresses: ['42.43.44.101/32', '42.43.44.102/32'],
    vrids: [1, 2],
  });
  const vrids = await new Promise<number[]>((resolve) => front.vrids.apply(resolve));
  await new Promise((r) => setTimeout(r, 200));
  const instance = registered.find((r) => r.inputs?.kind === 'KeepalivedInstance');
  if (JSON.stringify(vrids) !== '[1,2]' || !instance || instance.inputs.metadata.name !== 'front') {
    console.error('pulumi install check failed', JSON.stringify({ vrids, registered }, null, 1));
    process.exit(1);
  }
  console.log(`pulumi install check: ${registered.length} resources registered, VRIDs ${vrids.join(', ')}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
