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

describe("stack config: time zones as the tools downstream take them", () => {
  for (const zone of ["Asia/Kolkata", "Etc/UTC", "Europe/Kyiv", "America/Argentina/Buenos_Aires", "GMT", "UTC", "Asia/Calcutta", "Europe/Kiev", "Etc/GMT+9", "America/Port-au-Prince"]) {
    it(`takes ${zone}, an IANA name (also where ICU knows it only as a link)`, () => {
      expect(readTimeZone(readerOf({ "cloudtrail-alerts:timeZone": zone }))).to.equal(zone);
    });
  }

  for (const zone of ["JST", "PST", "IST", "asia/tokyo", "SystemV/PST8", "Mars/Olympus_Mons", "Asia/Tokyo ", ""]) {
    it(`refuses ${JSON.stringify(zone)}, which is not an IANA name as IANA spells it`, () => {
      expect(() => readTimeZone(readerOf({ "cloudtrail-alerts:timeZone": zone }))).to.throw(`cloudtrail-alerts:timeZone must be an IANA time zone such as Asia/Tokyo, got ${JSON.stringify(zone)}`);
    });
  }
});
