/**
 * An S3 stand-in for the benchmark that keeps no object bodies: each PutObject is unzipped and parsed on arrival and
 * only the generated event identities it holds are kept per key (a later put under the same key replaces them, as S3
 * does). At the end it tells, per pair, which events were written once, never, or more than once. Writes take a
 * configurable time on the given clock.
 */
import { gunzipSync } from "zlib";

import type { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

import type { Clock } from "../functions/shared/runtime";
import { generatedEventIndex } from "./fakeCloudTrail";

export class CountingS3 {
  private readonly objects = new Map<string, Uint32Array>();
  puts = 0;

  constructor(
    private readonly clock: Clock,
    private readonly latencyMs = 30,
  ) {}

  client(): Pick<S3Client, "send"> {
    return {
      send: async (command: PutObjectCommand) => {
        const body = command.input.Body as Buffer;
        const parsed = JSON.parse(gunzipSync(body).toString("utf8")) as { Records?: Array<{ eventID: string }> } | Array<{ eventID: string }>;
        const records = Array.isArray(parsed) ? parsed : (parsed.Records ?? []);
        const ids = new Uint32Array(records.length * 2);
        records.forEach((record, i) => {
          const identity = generatedEventIndex(record.eventID);
          if (identity === undefined) throw new Error(`unexpected event ID ${record.eventID}`);
          ids[2 * i] = identity.pairTag;
          ids[2 * i + 1] = identity.index;
        });
        this.objects.set(`${command.input.Bucket}/${command.input.Key}`, ids);
        this.puts += 1;
        await this.clock.sleep(this.latencyMs);
        return { $metadata: {} };
      },
    };
  }

  /** For each pair (by tag and event count): events never written, and events written more than once. */
  verify(pairs: Array<{ pairTag: number; count: number }>): { lost: number; duplicated: number; written: number } {
    const counts = new Map(pairs.map((p) => [p.pairTag, new Uint8Array(p.count)]));
    for (const ids of this.objects.values()) {
      for (let i = 0; i < ids.length; i += 2) {
        const perPair = counts.get(ids[i]);
        if (perPair === undefined) throw new Error(`event of unknown pair ${ids[i]}`);
        perPair[ids[i + 1]] = Math.min(255, perPair[ids[i + 1]] + 1);
      }
    }
    let lost = 0;
    let duplicated = 0;
    let written = 0;
    for (const perPair of counts.values()) {
      for (const n of perPair) {
        if (n === 0) lost += 1;
        if (n > 1) duplicated += n - 1;
        written += n;
      }
    }
    return { lost, duplicated, written };
  }
}
