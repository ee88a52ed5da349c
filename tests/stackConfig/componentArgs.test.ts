import { expect } from "chai";
import * as fc from "fast-check";

import { argsRawConfig, CONFIG_KEYS, configArgs, configText, configValue } from "../../stackConfig";
import { devConfig } from "../support/stackConfig";

describe("stack config: as CloudTrailAlerts' arguments", () => {
  it("gives back every config text exactly as written, through the value it stands for", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.integer().map(String), fc.double().map(String), fc.constantFrom("true", "false", "null", "1e3", "0365", "-0", ' "quoted"')), (text) => {
        expect(configText(configValue(text))).to.equal(text);
      }),
    );
  });

  it("parses structured config and numbers and booleans written as JSON writes them; keeps every other text as written", () => {
    expect(configValue('{"watches": []}')).to.deep.equal({ watches: [] });
    expect(configValue('["a@example.com"]')).to.deep.equal(["a@example.com"]);
    expect(configValue("365")).to.equal(365);
    expect(configValue("true")).to.equal(true);
    expect(configValue("Asia/Tokyo")).to.equal("Asia/Tokyo");
    expect(configValue("0365")).to.equal("0365");
    expect(configValue('"quoted"')).to.equal('"quoted"');
  });

  it("reads the dev stack's cloudtrail-alerts: keys as arguments, leaving out keys the stack does not set", () => {
    const args = configArgs(devConfig({ "cloudtrail-alerts:trailLogRetentionInDays": undefined }));

    expect(args).to.deep.include({ timeZone: "Asia/Tokyo", language: "ja", alertEmails: ["security@example.com"], bucketCreationAlarm: true, functionLogRetentionInDays: 30 });
    expect(args.backfill).to.deep.include({ enabled: true, organizationId: "o-exampleorg1", maxConcurrency: 40 });
    expect(args).not.to.have.property("trailLogRetentionInDays");
    expect(Object.keys(args).every((key) => (CONFIG_KEYS as readonly string[]).includes(key))).to.equal(true);
  });

  it("turns arguments back into config text, taking the keys of other namespaces from the stack's config", () => {
    const raw = argsRawConfig({ timeZone: "UTC", trailLogRetentionInDays: 90, alertEmails: ["a@example.com"] }, (key) => (key === "aws:region" ? "us-east-1" : undefined));

    expect(raw("cloudtrail-alerts:timeZone")).to.equal("UTC");
    expect(raw("cloudtrail-alerts:trailLogRetentionInDays")).to.equal("90");
    expect(raw("cloudtrail-alerts:alertEmails")).to.equal('["a@example.com"]');
    expect(raw("cloudtrail-alerts:language")).to.equal(undefined);
    expect(raw("aws:region")).to.equal("us-east-1");
  });
});
