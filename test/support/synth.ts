import { App, Chart, Testing } from 'cdk8s';
import { expectValidAgainstSchemas } from './schemas';

/**
 * Synthesizes a chart, and validates every object against its real schema before returning it.
 * Every test synthesizes through here, so no synthesized object escapes schema validation.
 */
export function synth(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectValidAgainstSchemas(objects);
  return objects;
}

/** A fresh app and chart, as tests use them. */
export function newChart(id = 'test'): { app: App; chart: Chart } {
  const app = Testing.app();
  return { app, chart: new Chart(app, id) };
}
