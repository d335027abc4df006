// `npx cdk8s synth` runs this file (see cdk8s.yaml) and writes one YAML file per chart into dist/.
import { App } from 'cdk8s';
import { DeckhouseSeedChart } from './deckhouse-seed';
import { StandaloneEdgeChart } from './standalone-edge';

const app = new App();
new DeckhouseSeedChart(app, 'deckhouse-seed');
new StandaloneEdgeChart(app, 'standalone-edge');
app.synth();
