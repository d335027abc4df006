/**
 * Gratuitous ARP refresh: a master re-announces its virtual IPs (gratuitous ARP for IPv4, unsolicited
 * neighbour advertisements for IPv6) every so many seconds, so that a switch, router or host that
 * missed the burst at failover (or aged its entry out) does not keep sending to the old node for long.
 * keepalived's `garp_master_refresh` (inside `vrrp_instance`, whole seconds, 0 = off), in keepalived
 * since 1.2.x and read by 2.0.20, 2.2.7 and 2.3.4 alike.
 */

/**
 * The default refresh: every 30 s, as the Deckhouse keepalived module does. One ARP (or NA) per
 * virtual IP per 30 s: 255 groups cost under 9 broadcasts a second.
 */
export const DEFAULT_GARP_REFRESH_SECONDS = 30;
/** The longest refresh interval accepted: a day. */
export const MAX_GARP_REFRESH_SECONDS = 86_400;
/** What a valid refresh interval is, for synth-time messages. */
export const GARP_REFRESH_EXPECTED = `an integer from 0 (off) to ${MAX_GARP_REFRESH_SECONDS}, e.g. ${DEFAULT_GARP_REFRESH_SECONDS}`;

/**
 * What is wrong with a refresh interval, or undefined: whole seconds from 0 (off) to a day. The synth
 * validation and the agent's renderer both ask this.
 */
export function garpRefreshProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_GARP_REFRESH_SECONDS) {
    return `is not a whole number of seconds from 0 (off) to ${MAX_GARP_REFRESH_SECONDS} (keepalived's garp_master_refresh counts whole seconds)`;
  }
  return undefined;
}
