import { expect } from "chai";

import { readAlertEmails } from "../../stackConfig/alertEmails";
import { itRejects, readerOf } from "../support/stackConfig";

describe("stack config: cloudtrail-alerts:alertEmails", () => {
  itRejects([
    ["a malformed email", { "cloudtrail-alerts:alertEmails": '["security@example.com","security@"]' }, 'cloudtrail-alerts:alertEmails[1] must be an email address, got "security@"'],
    ["emails that are not a list", { "cloudtrail-alerts:alertEmails": '"security@example.com"' }, 'cloudtrail-alerts:alertEmails must be a list, got "security@example.com"'],
  ]);

  it("subscribes no address when not set", () => {
    expect(readAlertEmails(readerOf())).to.deep.equal([]);
  });
});
