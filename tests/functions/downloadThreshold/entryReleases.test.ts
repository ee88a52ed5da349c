import { expect } from "chai";

import { DEFAULT_RELEASE_LIMITS, entryReleases } from "../../../functions/downloadThreshold/entryReleases";

const name = (n: number) => `p${String(n).padStart(16, "0")}`;

describe("entryReleases", () => {
  it("hands out the entries noted for a counter item, at most as many as asked, until a count request removed them", () => {
    // Prepare
    const releases = entryReleases();

    // Act
    releases.add("counter-a", [name(1), name(2), name(3)]);
    releases.add("counter-b", [name(9)]);
    const firstTwo = releases.due("counter-a", 2);
    releases.removed("counter-a", firstTwo);

    // Assess
    expect(firstTwo).to.deep.equal([name(1), name(2)]);
    expect(releases.due("counter-a", 16)).to.deep.equal([name(3)]);
    expect(releases.due("counter-b", 16)).to.deep.equal([name(9)]);
    expect(releases.due("counter-c", 16)).to.deep.equal([]);
  });

  it("stays bounded: a limited number of entries per counter item, and of counter items (the one seen longest ago goes)", () => {
    const releases = entryReleases({ counters: 2, namesPerCounter: 3, recheckMs: 60_000 });

    releases.add("counter-a", [1, 2, 3, 4, 5].map(name));
    releases.add("counter-b", [name(6)]);
    releases.add("counter-c", [name(7)]);

    expect(releases.due("counter-a", 16)).to.deep.equal([]);
    expect(releases.due("counter-b", 16)).to.deep.equal([name(6)]);
    expect(releases.due("counter-c", 16)).to.deep.equal([name(7)]);
    expect(DEFAULT_RELEASE_LIMITS).to.deep.equal({ counters: 1000, namesPerCounter: 256, recheckMs: 60_000 });
  });

  it("picks entries worth reading oldest first, skipping those known to go and those read within the recheck time", () => {
    // Prepare: entries 1 to 6 (position = number); 2 is known to go.
    const releases = entryReleases({ counters: 10, namesPerCounter: 10, recheckMs: 60_000 });
    const entries = new Map([6, 5, 4, 3, 2, 1].map((n) => [name(n), n]));
    releases.add("counter-a", [name(2)]);

    // Act
    const first = releases.toCheck("counter-a", entries, 1_000, 3);
    const soonAfter = releases.toCheck("counter-a", entries, 2_000, 3);
    const later = releases.toCheck("counter-a", entries, 61_000, 3);

    // Assess: 1, 3, 4 first; then 5, 6 (the others were read a second ago); a minute later 1, 3, 4 again.
    expect(first).to.deep.equal([name(1), name(3), name(4)]);
    expect(soonAfter).to.deep.equal([name(5), name(6)]);
    expect(later).to.deep.equal([name(1), name(3), name(4)]);
  });

  it("forgets that an entry was read once the entry is gone or is noted to go", () => {
    const releases = entryReleases({ counters: 10, namesPerCounter: 10, recheckMs: 60_000 });

    releases.toCheck("counter-a", new Map([[name(1), 1], [name(2), 2]]), 1_000, 2);
    releases.add("counter-a", [name(1)]);
    releases.removed("counter-a", [name(1)]);
    const again = releases.toCheck("counter-a", new Map([[name(1), 1], [name(3), 3]]), 2_000, 2);

    expect(again).to.deep.equal([name(1), name(3)]);
  });
});
