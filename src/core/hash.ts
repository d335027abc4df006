/**
 * FNV-1a, 32 bit: a small, stable, dependency-free hash. Stable across Node versions and machines,
 * which is what VRID allocation, derived names and the agent's rendezvous hash need (no crypto needed).
 */
export function fnv1a32(text: string): number {
  // ASCII text is its own UTF-8: hash the char codes without encoding (a synth hashes every group's key).
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return fnv1a32Bytes(Buffer.from(text, 'utf8'));
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  return hash >>> 0;
}

function fnv1a32Bytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}

/** `fnv1a32` as 8 lower-case hex digits. */
export function fnv1a32Hex(text: string): string {
  return fnv1a32(text).toString(16).padStart(8, '0');
}
