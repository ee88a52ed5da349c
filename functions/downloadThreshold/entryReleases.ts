/**
 * What one execution environment (one DynamoDB counter instance, kept across warm invocations) knows about counter
 * entries that can go: the entries of downloads whose event items hold their positions. Its own become known when it
 * settles them; others' when it reads their event items. Each known entry is removed by the environment's next count
 * request on the same counter item, in that same write: releasing an entry costs no write of its own.
 */

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Counter entries an environment can remove, per counter item (its key as text). */
export interface EntryReleases {
  /** Up to `max` entries of `counter` to remove with its next count request. */
  due(counter: string, max: number): string[];
  /** Notes that `names` can go from `counter`. */
  add(counter: string, names: Iterable<string>): void;
  /** Forgets `names` of `counter`: a count request removed them. */
  removed(counter: string, names: readonly string[]): void;
  /**
   * Which of `entries` (name to position) are worth reading now, at most `max`, oldest position first: not known to
   * be removable, and not read in the last `recheckMs` (an entry whose holder died stays until its download is
   * delivered again). Marks them as read at `now`.
   */
  toCheck(counter: string, entries: ReadonlyMap<string, number>, now: number, max: number): string[];
}

/** How much an environment remembers: counter items, and entries per counter item. */
export interface EntryReleaseLimits {
  counters: number;
  namesPerCounter: number;
  recheckMs: number;
}

/** See {@link EntryReleaseLimits}; forgetting only costs a later read or a larger item until someone reads it. */
export const DEFAULT_RELEASE_LIMITS: EntryReleaseLimits = { counters: 1000, namesPerCounter: 256, recheckMs: 60_000 };

interface Known {
  removable: Set<string>;
  checkedAt: Map<string, number>;
}

/** An empty memory of releasable entries, bounded by `limits`. */
export function entryReleases(limits: EntryReleaseLimits = DEFAULT_RELEASE_LIMITS): EntryReleases {
  const counters = new Map<string, Known>();

  const known = (counter: string): Known => {
    let entry = counters.get(counter);
    if (entry === undefined) {
      entry = { removable: new Set(), checkedAt: new Map() };
      counters.set(counter, entry);
      // Maps iterate in insertion order: forget the counter item seen longest ago.
      if (counters.size > limits.counters) {
        counters.delete(counters.keys().next().value as string);
      }
    }
    return entry;
  };

  return {
    due(counter, max) {
      return [...(counters.get(counter)?.removable ?? [])].slice(0, max);
    },
    add(counter, names) {
      const { removable, checkedAt } = known(counter);
      for (const name of names) {
        checkedAt.delete(name);
        if (removable.size < limits.namesPerCounter) {
          removable.add(name);
        }
      }
    },
    removed(counter, names) {
      const entry = counters.get(counter);
      for (const name of names) {
        entry?.removable.delete(name);
      }
    },
    toCheck(counter, entries, now, max) {
      const { removable, checkedAt } = known(counter);
      for (const [name, at] of checkedAt) {
        if (now - at >= limits.recheckMs || !entries.has(name)) {
          checkedAt.delete(name);
        }
      }
      const names = [...entries]
        .filter(([name]) => !removable.has(name) && !checkedAt.has(name))
        .sort((a, b) => a[1] - b[1])
        .slice(0, max)
        .map(([name]) => name);
      for (const name of names) {
        if (checkedAt.size < limits.namesPerCounter) {
          checkedAt.set(name, now);
        }
      }
      return names;
    },
  };
}
