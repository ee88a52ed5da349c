import { expect } from "chai";

import { readTimeZone } from "../../stackConfig/timeZone";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:timeZone", () => {
  itRejects([["an unknown time zone", { "cloudtrail-alerts:timeZone": "Asia/Tokio" }, 'cloudtrail-alerts:timeZone must be an IANA time zone such as Asia/Tokyo, got "Asia/Tokio"']]);

  it("defaults to UTC", () => {
    expect(readTimeZone(readerOf())).to.equal("UTC");
  });

  it("refuses an abbreviation, which is not an IANA name", () => {
    expect(() => readTimeZone(readerOf({ "cloudtrail-alerts:timeZone": "JST" }))).to.throw('cloudtrail-alerts:timeZone must be an IANA time zone such as Asia/Tokyo, got "JST"');
  });
});
