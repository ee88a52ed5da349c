import { expect } from "chai";

import { DOWNLOAD_COUNT_METRIC, reportDownloadCount, WATCH_DIMENSION, watchDimension } from "../../../functions/downloadThreshold/watchMetric";
import { recordingMetrics } from "../../../simulation/recorders";

describe("watchMetric", () => {
  describe("watchDimension", () => {
    it("names a watched key and a prefix as an S3 URL, a prefix ending in *", () => {
      expect(watchDimension({ bucket: "reports", key: "2025/q1.pdf" })).to.equal("s3://reports/2025/q1.pdf");
      expect(watchDimension({ bucket: "reports", keyPrefix: "2025/" })).to.equal("s3://reports/2025/*");
      expect(watchDimension({ bucket: "reports", keyPrefix: "" })).to.equal("s3://reports/*");
    });

    it("percent-encodes what CloudWatch refuses in a dimension value (anything but printable ASCII), keeping spaces", () => {
      expect(watchDimension({ bucket: "confidential-reports", key: "2025/売上報告 Q1.pdf" })).to.equal("s3://confidential-reports/2025/%E5%A3%B2%E4%B8%8A%E5%A0%B1%E5%91%8A Q1.pdf");
      expect(watchDimension({ bucket: "b", key: "tab\there" })).to.equal("s3://b/tab%09here");
    });

    it("cuts a value longer than 1,024 characters, ending with a digest so that two long watches stay apart", () => {
      const a = watchDimension({ bucket: "b", key: `${"x".repeat(1100)}a` });
      const b = watchDimension({ bucket: "b", key: `${"x".repeat(1100)}b` });

      expect(a).to.have.length(1024);
      expect(a).to.not.equal(b);
      expect(a.slice(0, 1006)).to.equal(b.slice(0, 1006));
      expect(a).to.match(/~[0-9a-f]{17}$/);
    });
  });

  describe("reportDownloadCount", () => {
    it("counts the download's position under the watch that applies (the longest prefix), and nothing for an unwatched object", () => {
      const metrics = recordingMetrics();
      const watches = [
        { bucket: "b", keyPrefix: "", threshold: 10 },
        { bucket: "b", keyPrefix: "2025/", threshold: 3 },
      ];

      reportDownloadCount(metrics, watches, { bucket: "b", key: "2025/a.pdf" }, 4);
      reportDownloadCount(metrics, watches, { bucket: "other", key: "x" }, 1);

      expect(metrics.counts).to.deep.equal([{ name: DOWNLOAD_COUNT_METRIC, value: 4, dimensions: { [WATCH_DIMENSION]: "s3://b/2025/*" } }]);
      expect([DOWNLOAD_COUNT_METRIC, WATCH_DIMENSION]).to.deep.equal(["DownloadCount", "Watch"]);
    });
  });
});
