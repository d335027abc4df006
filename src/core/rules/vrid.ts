/** VRRP router ids: one rule for synth-time validation and for the agent's check of spec.json. */
export const VRID_MIN = 1;
export const VRID_MAX = 255;

/** Why `id` is not a VRRP router id, or undefined. */
export function vridProblem(id: unknown): string | undefined {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < VRID_MIN || id > VRID_MAX) return `is not a VRRP router id (an integer from ${VRID_MIN} to ${VRID_MAX})`;
  return undefined;
}
