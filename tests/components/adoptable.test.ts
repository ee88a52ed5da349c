import { expect } from "chai";

import {
  adoptionProblems,
  adoptOrCreate,
  type AdoptForm,
  type Adoption,
  type AlertTopicAdoptArgs,
  type AlertTopicArgs,
  type AlertTopicCreateArgs,
  type AuditTrailAdoptArgs,
  type AuditTrailArgs,
  type AuditTrailCreateArgs,
  type CreateForm,
  type TrailBackfillAdoptArgs,
  type TrailBackfillArgs,
  type TrailBackfillCreateArgs,
} from "../../components";

/** A component's args in the shape the helper expects: `existingThing` adopts, the others create. */
type ThingArgs = { existingThing: string; existingThingKey?: string; size?: never; label?: never } | { existingThing?: never; existingThingKey?: never; size?: number; label?: string };

const THING: Adoption<"existingThing"> = { existing: "existingThing", resource: "thing", createOnly: ["size", "label"], adoptOnly: ["existingThingKey"] };

/** True when A and B are the same type; a mismatch fails type checking (`npm test` type-checks the tests). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const formsOfComponents: [
  Same<AdoptForm<AlertTopicArgs, "existingTopicArn">, AlertTopicAdoptArgs>,
  Same<CreateForm<AlertTopicArgs, "existingTopicArn">, AlertTopicCreateArgs>,
  Same<AdoptForm<AuditTrailArgs, "existingLogGroupName">, AuditTrailAdoptArgs>,
  Same<CreateForm<AuditTrailArgs, "existingLogGroupName">, AuditTrailCreateArgs>,
  Same<AdoptForm<TrailBackfillArgs, "existingBucketName">, TrailBackfillAdoptArgs>,
  Same<CreateForm<TrailBackfillArgs, "existingBucketName">, TrailBackfillCreateArgs>,
] = [true, true, true, true, true, true];

describe("adoptable", () => {
  describe("adoptionProblems", () => {
    it("finds none when the arguments choose one form, or none at all", () => {
      expect(adoptionProblems({}, THING)).to.deep.equal([]);
      expect(adoptionProblems({ size: 3, label: "x" }, THING)).to.deep.equal([]);
      expect(adoptionProblems({ existingThing: "t", existingThingKey: "k" }, THING)).to.deep.equal([]);
    });

    it("names the create-only arguments given with the adopting one, in the spec's order, with the hint when there is one", () => {
      expect(adoptionProblems({ existingThing: "t", label: "x", size: 3 }, THING)).to.deep.equal(["existingThing adopts a thing and cannot be combined with size, label"]);
      expect(adoptionProblems({ existingThing: "t", size: 3 }, { ...THING, hint: "use existingThingKey" })).to.deep.equal(["existingThing adopts a thing and cannot be combined with size; use existingThingKey"]);
    });

    it("names every adopt-only argument when one is given without the adopting one", () => {
      expect(adoptionProblems({ existingThingKey: "k" }, THING)).to.deep.equal(["existingThingKey applies only together with existingThing"]);
      expect(adoptionProblems({ b: 1 }, { ...THING, adoptOnly: ["a", "b"] })).to.deep.equal(["a and b apply only together with existingThing"]);
      expect(adoptionProblems({ a: 1 }, { ...THING, adoptOnly: ["a", "b", "c"] })).to.deep.equal(["a, b and c apply only together with existingThing"]);
    });

    it("treats undefined as not given, and any other value (even an empty string) as given", () => {
      expect(adoptionProblems({ existingThing: undefined, existingThingKey: undefined, size: 3 }, THING)).to.deep.equal([]);
      expect(adoptionProblems({ existingThing: "", size: 0 }, THING)).to.deep.equal(["existingThing adopts a thing and cannot be combined with size"]);
    });
  });

  describe("adoptOrCreate", () => {
    const branches = (calls: string[]) => ({
      adopt: (args: AdoptForm<ThingArgs, "existingThing">) => (calls.push(`adopt ${args.existingThing}`), "adopted"),
      create: (args: CreateForm<ThingArgs, "existingThing">) => (calls.push(`create ${args.size ?? "-"}`), "created"),
    });

    it("adopts when the adopting argument is given, and returns what adopt returned", () => {
      const calls: string[] = [];
      expect(adoptOrCreate<ThingArgs, "existingThing", string>({ existingThing: "t" }, THING, branches(calls))).to.equal("adopted");
      expect(calls).to.deep.equal(["adopt t"]);
    });

    it("creates otherwise, also from no arguments", () => {
      const calls: string[] = [];
      expect(adoptOrCreate<ThingArgs, "existingThing", string>({ size: 3 }, THING, branches(calls))).to.equal("created");
      expect(adoptOrCreate<ThingArgs, "existingThing", string>({}, THING, branches(calls))).to.equal("created");
      expect(calls).to.deep.equal(["create 3", "create -"]);
    });

    it("throws on mixed forms, like awsx, before calling either branch", () => {
      const calls: string[] = [];
      expect(() => adoptOrCreate<ThingArgs, "existingThing", string>({ existingThing: "t", size: 3 } as never, THING, branches(calls))).to.throw("existingThing adopts a thing and cannot be combined with size");
      expect(() => adoptOrCreate<ThingArgs, "existingThing", string>({ existingThingKey: "k" } as never, THING, branches(calls))).to.throw("existingThingKey applies only together with existingThing");
      expect(calls).to.deep.equal([]);
    });
  });

  it("tells each component's adopting form from its creating form by type", () => {
    expect(formsOfComponents).to.deep.equal([true, true, true, true, true, true]);
  });
});
