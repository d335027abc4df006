/** VRRP router ids: one rule for synth-time validation and for the agent's check of spec.json. */
export const VRID_MIN = 1;
export const VRID_MAX = 255;

/** What a VRID is: for the messages. */
export const VRID_EXPECTED = `an integer from ${VRID_MIN} to ${VRID_MAX}`;

/** Whether `id` is a VRRP router id. */
export function isVrid(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= VRID_MIN && id <= VRID_MAX;
}

/** Why `id` is not a VRRP router id, or undefined. */
export function vridProblem(id: unknown): string | undefined {
  return isVrid(id) ? undefined : `is not a VRRP router id (${VRID_EXPECTED})`;
}
