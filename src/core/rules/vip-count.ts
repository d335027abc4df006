/**
 * How many addresses one VRRP group may hold: one rule for synth-time validation and for the agent's
 * check of spec.json. An advert lists every address of its group: VRRP's count field is 8 bits (255),
 * and the packet must fit the link's MTU. keepalived advertises no more than fit (it moves the rest to
 * `virtual_ipaddress_excluded`) and reports the config as wrong, so a group beyond these is refused.
 * IPv6: 75 addresses (and the link-local one keepalived's config carries first) fit IPv6's minimum MTU
 * of 1280 bytes, so any link carries the advert (at 1500 bytes keepalived takes 88).
 */
export const MAX_VIPS_PER_GROUP: { readonly [family: number]: number } = { 4: 255, 6: 75 };

/** Why a group of `count` addresses of `family` is too large, or undefined. */
export function vipCountProblem(count: number, family: 4 | 6): string | undefined {
  const max = MAX_VIPS_PER_GROUP[family];
  if (count <= max) return undefined;
  const why = family === 4 ? 'VRRP counts a group\'s addresses in one byte' : 'an advert with more does not fit a link of IPv6\'s minimum MTU (1280)';
  return `has ${count} IPv${family} addresses, more than the ${max} one VRRP advert can list (${why}); keepalived would not advertise the rest`;
}

/** What a group's addresses may be: for the messages. */
export const VIP_COUNT_EXPECTED = `at most ${MAX_VIPS_PER_GROUP[4]} IPv4 or ${MAX_VIPS_PER_GROUP[6]} IPv6 addresses per group; split them over several groups`;
