/**
 * s3rver (a real S3 API server) on a free loopback port with a temporary directory, plus helpers to read back the
 * CloudTrail log files the backfill wrote.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gunzipSync } from "zlib";

import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's built-in credentials (it checks signatures). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** One object as stored. */
export interface StoredObject {
  key: string;
  bytes: Buffer;
  contentType?: string;
  contentEncoding?: string;
}

export class S3Server {
  private constructor(
    private readonly server: S3rver,
    readonly endpoint: string,
    readonly directory: string,
  ) {}

  /** Starts s3rver on 127.0.0.1 with the given buckets. */
  static async start(buckets: string[]): Promise<S3Server> {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"));
    const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
    const address = await server.run();
    return new S3Server(server, `http://127.0.0.1:${address.port}`, directory);
  }

  /** A client for this server (path-style addressing: the bucket is not a host name on loopback). */
  client(): S3Client {
    return new S3Client({ endpoint: this.endpoint, region: "ap-northeast-1", forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  }

  /** Every object under `prefix`, with its bytes, sorted by key. */
  async objects(bucket: string, prefix = ""): Promise<StoredObject[]> {
    const client = this.client();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((c) => c.Key as string));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    const objects: StoredObject[] = [];
    for (const key of keys.sort()) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      objects.push({
        key,
        bytes: Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
        ...(object.ContentType === undefined ? {} : { contentType: object.ContentType }),
        ...(object.ContentEncoding === undefined ? {} : { contentEncoding: object.ContentEncoding }),
      });
    }
    client.destroy();
    return objects;
  }

  async stop(): Promise<void> {
    await this.server.close();
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}

/** The records of a native CloudTrail log file (gzip of `{"Records":[...]}`). */
export function logFileRecords(bytes: Buffer): Array<Record<string, unknown>> {
  const parsed = JSON.parse(gunzipSync(bytes).toString("utf8")) as { Records?: unknown };
  if (!Array.isArray(parsed.Records) || Object.keys(parsed).length !== 1) {
    throw new Error('not a CloudTrail log file: expected exactly {"Records":[...]}');
  }
  return parsed.Records as Array<Record<string, unknown>>;
}
