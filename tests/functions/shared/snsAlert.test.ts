import { expect } from "chai";
import fc from "fast-check";

import { fitSnsMessage, publishAlert, SNS_MESSAGE_MAX_BYTES, snsSubject } from "../../../functions/shared/snsAlert";
import { FakeSns } from "../../../simulation/fakeSns";

describe("snsAlert", () => {
  describe("snsSubject", () => {
    it("keeps a short ASCII subject as it is", () => {
      expect(snsSubject("[ap-northeast-1] ssm:StartSession by hogehoge")).to.equal("[ap-northeast-1] ssm:StartSession by hogehoge");
    });

    it("drops Japanese and line breaks, and cuts long subjects with an ellipsis at 99 characters", () => {
      expect(snsSubject("ダウンロード警告:\n report.pdf  ")).to.equal(": report.pdf");
      const long = snsSubject(`Download threshold exceeded for s3://bucket/${"a".repeat(200)}`);
      expect(long).to.have.length(99);
      expect(long.endsWith("...")).to.equal(true);
      expect(snsSubject("日本語だけ")).to.equal("(no subject)");
    });

    it("always returns 1-99 printable ASCII characters without leading or trailing space", () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
          const subject = snsSubject(text);
          expect(subject.length).to.be.within(1, 99);
          expect(subject).to.match(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/);
        }),
      );
    });
  });

  describe("fitSnsMessage", () => {
    it("leaves a message that fits untouched", () => {
      expect(fitSnsMessage("発生時刻: 2023-04-25 18:47:10 +09:00")).to.equal("発生時刻: 2023-04-25 18:47:10 +09:00");
    });

    it("cuts an oversized message between characters and says so", () => {
      const message = "あ".repeat(100_000); // 300,000 bytes
      const fitted = fitSnsMessage(message);

      expect(Buffer.byteLength(fitted)).to.be.at.most(SNS_MESSAGE_MAX_BYTES);
      expect(fitted).to.match(/\n\n\[cut: this message was 300000 bytes; SNS accepts 262144\. The full event is in CloudTrail\.\]$/);
      expect(fitted).not.to.include("\uFFFD");
    });

    it("never exceeds the limit, never breaks a character, and keeps a prefix of the original", () => {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 120, max: 400 }), (text, limit) => {
          const fitted = fitSnsMessage(text, limit);
          expect(Buffer.byteLength(fitted)).to.be.at.most(limit);
          const kept = fitted.split("\n\n[cut:")[0];
          expect(text.startsWith(kept)).to.equal(true);
          expect(fitted.includes("\uFFFD") && !text.includes("\uFFFD")).to.equal(false);
        }),
      );
    });
  });

  describe("publishAlert", () => {
    it("sends a subject and message that SNS accepts, even from unruly input", async () => {
      // Prepare
      const topicArn = "arn:aws:sns:ap-northeast-1:111111111111:alerts";
      const sns = await FakeSns.start([topicArn]);

      // Act
      try {
        await publishAlert(sns.client(), topicArn, { subject: "\n警告: bucket created\tby root\n", message: "x".repeat(300_000) });
      } finally {
        await sns.stop();
      }

      // Assess
      expect(sns.refused).to.deep.equal([]);
      expect(sns.published).to.have.length(1);
      expect(sns.published[0].subject).to.equal(": bucket created by root");
      expect(Buffer.byteLength(sns.published[0].message)).to.equal(SNS_MESSAGE_MAX_BYTES);
    });
  });
});
