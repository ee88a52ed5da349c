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

describe("stack config: a repeated alert email", () => {
  itRejects([
    [
      "the same address twice (two subscriptions of one URN)",
      { "cloudtrail-alerts:alertEmails": '["a@example.com","b@example.com","a@example.com"]' },
      'cloudtrail-alerts:alertEmails[2] "a@example.com" is listed twice (also cloudtrail-alerts:alertEmails[0]); remove one',
    ],
  ]);
});
