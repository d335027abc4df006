// The examples must reproduce the seed document's two manifests exactly, through the real `cdk8s synth`.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { expectValidAgainstSchemas } from './support/schemas';

const ROOT = path.join(__dirname, '..');

function loadFixture(file: string): any {
  return YAML.parse(fs.readFileSync(path.join(__dirname, 'fixtures', file), 'utf8'));
}

describe('examples reproduce the seed manifests', () => {
  let outdir: string;
  let objects: any[];

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-seed-'));
    // GIVEN cdk8s.yaml, WHEN a user runs `cdk8s synth` ...
    execFileSync('npx', ['cdk8s', 'synth', '--check-upgrade', 'false', '--output', outdir], { cwd: ROOT, stdio: 'pipe' });
    objects = fs.readdirSync(outdir).sort()
      .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map((d) => d.toJSON()));
  }, 120_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('every synthesized object validates against its real schema', () => {
    expect(objects.length).toBeGreaterThanOrEqual(2);
    expectValidAgainstSchemas(objects.filter((o) => o.kind === 'KeepalivedInstance'));
  });

  test.each([
    ['seed-front.yaml', 'front'],
    ['seed-mygateway.yaml', 'mygateway'],
  ])('%s: apiVersion, kind, metadata.name and spec deep-equal the seed', (fixture, name) => {
    const expected = loadFixture(fixture);
    const actual = objects.find((o) => o.kind === 'KeepalivedInstance' && o.metadata.name === name);
    expect(actual).toBeDefined();
    // THEN the object is the seed's, field for field
    expect({ apiVersion: actual.apiVersion, kind: actual.kind, name: actual.metadata.name, spec: actual.spec })
      .toStrictEqual({ apiVersion: expected.apiVersion, kind: expected.kind, name: expected.metadata.name, spec: expected.spec });
  });
});
