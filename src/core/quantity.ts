/**
 * Kubernetes resource quantities (`100m`, `64Mi`, `1.5`, `2e3`): their syntax, and their amounts so
 * that a request can be compared with a limit.
 */

/** A quantity: a non-negative decimal, then a binary (`Ki`..`Ei`) or decimal (`n`..`E`) suffix, or an exponent. */
const QUANTITY = /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$/;

const SUFFIX_SCALE: Readonly<Record<string, number>> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** What a quantity is: for the messages. */
export const QUANTITY_EXPECTED = 'a quantity such as "100m", "0.5", "64Mi" or "1G"';

/** A quantity's amount in base units (cores, bytes), or undefined when the text is not a quantity. */
export function quantityAmount(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  const scale = suffix === '' ? 1 : SUFFIX_SCALE[suffix] ?? 10 ** Number(suffix.slice(1));
  return Number(m[1]) * scale;
}

/**
 * Whether a request is more than its limit, which the API server rejects. False when either is not a
 * quantity (absent, `'none'`, or invalid: reported on its own).
 */
export function exceedsLimit(request: unknown, limit: unknown): boolean {
  const [requested, limited] = [quantityAmount(request), quantityAmount(limit)];
  return requested !== undefined && limited !== undefined && requested > limited;
}
