/**
 * The LookupEvents loop of docs/sourceArticles.md, as the benchmark's baseline: one sequential NextToken chain per
 * account-region
 * pair, a fixed 0.6 s pause after every page, exponential backoff (1 s, 2 s, 4 s, 8 s, 16 s, then give up) on
 * ThrottlingException, the events buffered and uploaded at the end as one gzip JSON array.
 */
import { gzipSync } from "zlib";

import { LookupEventsCommand, type CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

import type { Clock } from "../functions/shared/runtime";

export interface ArticleLoopResult {
  requests: number;
  throttled: number;
  events: number;
}

export async function articleBackfillLoop(p: {
  account: string;
  region: string;
  start: number;
  end: number;
  cloudTrail: Pick<CloudTrailClient, "send">;
  s3: Pick<S3Client, "send">;
  bucket: string;
  clock: Clock;
}): Promise<ArticleLoopResult> {
  const result: ArticleLoopResult = { requests: 0, throttled: 0, events: 0 };
  const events: string[] = [];
  let token: string | undefined;
  let attempt = 0;
  for (;;) {
    result.requests += 1;
    try {
      const page = await p.cloudTrail.send(
        // The loop's range is inclusive at both ends; ask up to 1 ms before the end to match the half-open range.
        new LookupEventsCommand({ StartTime: new Date(p.start), EndTime: new Date(p.end - 1), MaxResults: 50, ...(token === undefined ? {} : { NextToken: token }) }),
      );
      attempt = 0;
      for (const event of page.Events ?? []) {
        events.push(event.CloudTrailEvent as string);
      }
      token = page.NextToken;
      if (token === undefined) {
        break;
      }
      await p.clock.sleep(600);
    } catch (error) {
      if ((error as Error).name !== "ThrottlingException" || attempt >= 5) {
        throw error;
      }
      result.throttled += 1;
      attempt += 1;
      await p.clock.sleep(1000 * 2 ** (attempt - 1));
    }
  }
  await p.s3.send(
    new PutObjectCommand({ Bucket: p.bucket, Key: `article/${p.account}/${p.region}/${p.start}-${p.end}.json.gz`, Body: gzipSync(Buffer.from(`[${events.join(",")}]`, "utf8")) }),
  );
  result.events = events.length;
  return result;
}
