/** VRRP advert intervals: one rule for synth-time validation and for the agent's check of spec.json. */

/** VRRPv2 counts whole seconds from 1 to 255. */
export const VRRP2_ADVERT_MAX = 255;
/** VRRPv3 counts centiseconds, in a 12-bit field: 0.01 to 40.95 s. */
export const VRRP3_ADVERT_MIN = 0.01;
export const VRRP3_ADVERT_MAX = 40.95;

/** What an advert interval of VRRP `version` is: for the messages. */
export function advertIntervalExpected(version: 2 | 3): string {
  return version === 2 ? `an integer from 1 to ${VRRP2_ADVERT_MAX}` : `a multiple of ${VRRP3_ADVERT_MIN} from ${VRRP3_ADVERT_MIN} to ${VRRP3_ADVERT_MAX}`;
}

/** Why `seconds` is not an advert interval of VRRP `version`, or undefined. */
export function advertIntervalProblem(seconds: unknown, version: number): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return 'is not a number of seconds';
  if (version === 2 && (!Number.isInteger(seconds) || seconds < 1 || seconds > VRRP2_ADVERT_MAX)) {
    return `VRRPv2 adverts are whole seconds from 1 to ${VRRP2_ADVERT_MAX} (fractional intervals need VRRPv3)`;
  }
  if (version === 3 && (seconds < VRRP3_ADVERT_MIN || seconds > VRRP3_ADVERT_MAX || Math.abs(Math.round(seconds * 100) - seconds * 100) > 1e-6)) {
    return `VRRPv3 adverts are centiseconds from ${VRRP3_ADVERT_MIN} to ${VRRP3_ADVERT_MAX} s`;
  }
  return undefined;
}
