/**
 * The fake CloudWatch Logs over loopback HTTP answers SDK clients built from scratch (as a Lambda archive builds
 * them) exactly as its in-process client does: pages, and the quota's throttling error by its SDK name.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { expect } from "chai";

import { withEnvironment } from "../../preview/lambdaArchive";
import { FakeCloudWatchLogs } from "../../simulation/fakeCloudWatchLogs";

const LOG_GROUP = "/aws/cloudtrail/test-trail";
const T = Date.parse("2025-03-03T01:00:00Z");

describe("FakeCloudWatchLogs over HTTP", () => {
  it("answers a client configured from the environment, and throttles past 5 requests in a second", async () => {
    // Prepare
    const fake = new FakeCloudWatchLogs({ logGroupName: LOG_GROUP, clock: { now: () => T } });
    fake.add([
      { timestamp: T, message: JSON.stringify({ eventName: "GetObject" }) },
      { timestamp: T + 1, message: JSON.stringify({ eventName: "PutObject" }) },
    ]);
    const server = await fake.listen();
    const filter = new FilterLogEventsCommand({ logGroupName: LOG_GROUP, filterPattern: '{ $.eventName = "GetObject" }' });

    // Act
    const outcomes = await withEnvironment(server.environment, async () => {
      const client = new CloudWatchLogsClient({ maxAttempts: 1 });
      const results: string[] = [];
      for (let i = 0; i < 6; i++) {
        results.push(await client.send(filter).then((page) => (page.events ?? []).map((e) => e.message).join(), (error: Error) => error.name));
      }
      client.destroy();
      return results;
    }).finally(() => server.stop());

    // Assess
    expect(outcomes).to.deep.equal([...Array<string>(5).fill('{"eventName":"GetObject"}'), "ThrottlingException"]);
    expect(fake.stats).to.deep.include({ requests: 6, throttled: 1, pages: 5 });
  });
});
