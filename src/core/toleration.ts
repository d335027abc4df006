import { dropUndefined } from './manifest';
import { Toleration } from './model';

/** A toleration in Kubernetes' field order, without unset fields. */
export function tolerationManifest(t: Toleration): Record<string, unknown> {
  return dropUndefined({ key: t.key, operator: t.operator, value: t.value, effect: t.effect, tolerationSeconds: t.tolerationSeconds });
}
