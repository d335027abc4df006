/**
 * Where a password shows in synthesized objects other than the Secret that carries it on purpose. A
 * value equal to it anywhere (a field, an annotation, a key of spec.json) is a leak; so is the password
 * inside a longer text, once it is long enough (6 characters) not to occur in ordinary text by chance.
 * The agent's own source, fixed text that no input reaches, is not searched for substrings.
 */
export function passwordLeaks(objects: readonly any[], password: string, secret: { namespace: string; name: string }): string[] {
  const leaks: string[] = [];
  const visit = (value: unknown, where: string, searchText: boolean): void => {
    if (typeof value === 'string') {
      if (value === password || (searchText && password.length >= 6 && value.includes(password))) leaks.push(where);
      // Text that holds JSON (spec.json) is searched as data too.
      if (value.startsWith('{')) {
        try {
          visit(JSON.parse(value), `${where} (JSON)`, searchText);
        } catch { /* not JSON */ }
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`, searchText));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === password) leaks.push(`${where} key`);
        visit(item, `${where}.${key}`, searchText && key !== 'keepalived-agent.js');
      }
    }
  };
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    if (o.kind === 'Secret' && o.metadata?.namespace === secret.namespace && o.metadata?.name === secret.name) continue;
    visit(o, id, true);
  }
  return leaks;
}
