/** How the VRRP password reaches the pods: a Secret the package emits for a literal, or the user's. */
import { ManifestObject } from '../manifest';
import { StandaloneNames } from './names';
import { StandaloneOptions } from './options';

/** The Secret and key the pods read the password from, if any. */
export interface AuthSecretRef {
  readonly secretName: string;
  readonly key: string;
}

/** Where the password comes from: the user's Secret, or the one `authSecret` emits for a literal. */
export function authSecretRef(options: StandaloneOptions, names: StandaloneNames): AuthSecretRef | undefined {
  const auth = options.auth?._spec;
  if (!auth) return undefined;
  if (auth.password !== undefined) return { secretName: names.secret, key: 'password' };
  return { secretName: auth.secretName!, key: auth.key! };
}

/** The Secret for a literal password: in plain text (`stringData`), as the user chose. */
export function authSecret(options: StandaloneOptions, names: StandaloneNames, meta: (name: string) => ManifestObject['metadata']): ManifestObject | undefined {
  const password = options.auth?._spec.password;
  if (password === undefined) return undefined;
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(names.secret), type: 'Opaque', stringData: { password } };
}
