/**
 * FNV-1a, 32 bit: a small, stable, dependency-free hash. Stable across Node versions and machines,
 * which is what VRID allocation, derived names and the agent's rendezvous hash need (no crypto needed).
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** `fnv1a32` as 8 lower-case hex digits. */
export function fnv1a32Hex(text: string): string {
  return fnv1a32(text).toString(16).padStart(8, '0');
}
