import { expect } from "chai";

import { readLanguage } from "../../stackConfig/language";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:language", () => {
  itRejects([["an unsupported language", { "cloudtrail-alerts:language": "fr" }, 'cloudtrail-alerts:language must be "ja" or "en", got "fr"']]);

  it("defaults to English and reads Japanese", () => {
    expect(readLanguage(readerOf())).to.equal("en");
    expect(readLanguage(readerOf({ "cloudtrail-alerts:language": "ja" }))).to.equal("ja");
  });
});
