/** The VRRPv2 PASS password: one rule for synth-time validation and for the agent's check of the mounted file. */

/** PASS authentication carries at most 8 bytes; keepalived truncates longer passwords. */
export const AUTH_PASS_MAX = 8;

// Printable ASCII without white space or the characters keepalived's parser reads as comments, quotes,
// blocks or escapes.
const AUTH_PASS_CHARS = /^[\x21-\x7e]+$/;
const AUTH_PASS_FORBIDDEN = /[#!"'{}$\\]/;

/** What a valid password is, for messages. */
export const AUTH_PASS_EXPECTED = `1 to ${AUTH_PASS_MAX} printable ASCII characters without spaces or any of # ! " ' { } $ \\`;

/** Why `pass` is not a usable PASS password, or undefined. Never quotes the password. */
export function authPasswordProblem(pass: unknown): string | undefined {
  if (typeof pass !== 'string') return 'is not a string';
  if (pass.length === 0) return 'is empty';
  const bytes = Buffer.byteLength(pass, 'utf8');
  if (bytes > AUTH_PASS_MAX) return `is ${bytes} bytes long; VRRPv2 PASS authentication carries at most ${AUTH_PASS_MAX} (keepalived would truncate it)`;
  if (!AUTH_PASS_CHARS.test(pass) || AUTH_PASS_FORBIDDEN.test(pass)) {
    return 'has characters keepalived\'s parser would not keep as written (white space, non-ASCII, or one of # ! " \' { } $ \\)';
  }
  return undefined;
}
