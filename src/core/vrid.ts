import { fnv1a32 } from './hash';
import { ValidationIssue } from './errors';

import { VRID_MAX } from './rules/vrid';

/** A group's request for a VRID: an explicit one, or a stable key to allocate one from. */
export interface VridClaim {
  /** The owner's construct path, for messages. */
  readonly owner: string;
  /** The owner's prop that holds (or would hold) the VRID, e.g. `vrids[1]`. */
  readonly field: string;
  /** A key that identifies the group across synths: the owner's path and the group's name. */
  readonly key: string;
  /** The VRID the user set, if any. */
  readonly explicit?: number;
}

/** VRIDs that other routers on the segment use: never allocated, and an error to use explicitly. */
export interface VridReservation {
  readonly owner: string;
  readonly field: string;
  readonly ids: readonly number[];
}

/** The result of allocation: a VRID per claim (same order), and what was wrong. */
export interface VridAllocation {
  readonly vrids: readonly (number | undefined)[];
  readonly issues: readonly ValidationIssue[];
}

/**
 * Assigns VRIDs to every claim, app-wide.
 *
 * Explicit VRIDs are kept, and reported when used twice or reserved. Each omitted VRID has its own
 * slot, a hash of its claim's key (the cluster's name and the group's name). First every group whose
 * own slot is free gets it (of groups with the same own slot, the one whose key sorts first); then the
 * others, in the order of their keys, take the next free slot after their own. So:
 * - reordering constructs or groups never changes a VRID;
 * - a group that gets its own slot keeps it whatever other groups are added or removed, unless an
 *   explicit VRID, a reservation, or a group with the same own slot and an earlier key now takes it;
 * - only a group displaced from its own slot (a hash collision) can move when other groups come or
 *   go. Pin such a group's `id` when its VRID must never change.
 */
export function allocateVrids(claims: readonly VridClaim[], reservations: readonly VridReservation[]): VridAllocation {
  const issues: ValidationIssue[] = [];
  const reservedBy = new Map<number, VridReservation>();
  for (const r of reservations) for (const id of r.ids) if (!reservedBy.has(id)) reservedBy.set(id, r);

  const vrids: (number | undefined)[] = claims.map(() => undefined);
  const takenBy = new Map<number, VridClaim>();
  claims.forEach((claim, i) => {
    if (claim.explicit === undefined) return;
    const id = claim.explicit;
    vrids[i] = id;
    const reserved = reservedBy.get(id);
    const other = takenBy.get(id);
    if (reserved) {
      issues.push({
        path: claim.owner, field: claim.field, value: id,
        problem: `VRID ${id} is reserved by ${reserved.owner} (${reserved.field}) for another router on the segment`,
        expected: 'a VRID in 1..255 that is not reserved, or omit it for automatic allocation',
      });
    } else if (other) {
      issues.push({
        path: claim.owner, field: claim.field, value: id,
        problem: `VRID ${id} is already used by ${other.owner} (${other.field}); a VRID must be unique in the app, as the Deckhouse webhook requires cluster-wide`,
        expected: 'another VRID in 1..255, or omit it for automatic allocation',
      });
    } else {
      takenBy.set(id, claim);
    }
  });

  const free = (id: number) => !takenBy.has(id) && !reservedBy.has(id);
  const automatic = claims
    .map((claim, i) => ({ claim, i }))
    .filter(({ claim }) => claim.explicit === undefined)
    .sort((a, b) => (a.claim.key < b.claim.key ? -1 : a.claim.key > b.claim.key ? 1 : a.i - b.i));
  const displaced: typeof automatic = [];
  for (const entry of automatic) {
    const own = preferredVrid(entry.claim.key);
    if (free(own)) {
      vrids[entry.i] = own;
      takenBy.set(own, entry.claim);
    } else {
      displaced.push(entry);
    }
  }
  for (const { claim, i } of displaced) {
    const start = preferredVrid(claim.key);
    let id: number | undefined;
    for (let step = 0; step < VRID_MAX; step++) {
      const candidate = ((start - 1 + step) % VRID_MAX) + 1;
      if (free(candidate)) { id = candidate; break; }
    }
    if (id === undefined) {
      issues.push({
        path: claim.owner, field: claim.field, value: undefined,
        problem: 'no VRID is left to allocate: all 255 are used or reserved in this app',
        expected: 'fewer VRRP groups, or fewer reserved VRIDs',
      });
      continue;
    }
    vrids[i] = id;
    takenBy.set(id, claim);
  }
  return { vrids, issues };
}

/** The slot where a key's search for a free VRID starts. */
export function preferredVrid(key: string): number {
  return (fnv1a32(key) % VRID_MAX) + 1;
}
