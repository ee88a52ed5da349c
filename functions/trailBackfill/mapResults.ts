/**
 * The pairs' results as the Distributed Map's `ResultWriter` exported them to S3: a `manifest.json` listing result
 * files by status, each a JSON array of child executions whose `Output` (succeeded) is the pair's totals as JSON text
 * and whose `Error` (failed) names what failed it. See
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";

import { namedError } from "../shared/runtime";
import { isObject, shown } from "../shared/values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The folder the Map's ResultWriter exports the pairs' results to, under the backfill's key prefix: outside `AWSLogs/`, where trail readers look. */
export const BACKFILL_RESULTS_FOLDER = "TrailBackfillResults";

/** The key prefix the Map's ResultWriter exports the pairs' results under: `[prefix/]TrailBackfillResults`. */
export function backfillResultsPrefix(keyPrefix: string): string {
  return `${keyPrefix === "" ? "" : `${keyPrefix}/`}${BACKFILL_RESULTS_FOLDER}`;
}

/** Where the Map's results are: the Map state's output when it has a ResultWriter. */
export interface MapResultsLocation {
  MapRunArn: string;
  ResultWriterDetails: { Bucket: string; Key: string };
}

/** Whether `value` is a ResultWriter's Map output (rather than the results themselves). */
export function isMapResultsLocation(value: unknown): value is MapResultsLocation {
  return isObject(value) && isObject(value.ResultWriterDetails) && typeof value.ResultWriterDetails.Bucket === "string" && typeof value.ResultWriterDetails.Key === "string";
}

async function readJson(s3: Pick<S3Client, "send">, bucket: string, key: string, expectedOwner?: string): Promise<unknown> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(expectedOwner === undefined ? {} : { ExpectedBucketOwner: expectedOwner }) }));
  const text = await object.Body?.transformToString("utf-8");
  try {
    return JSON.parse(text ?? "") as unknown;
  } catch {
    throw namedError("InvalidMapResultsError", `s3://${bucket}/${key} is not JSON: ${shown(text, 120)}`);
  }
}

/** One exported child execution as the summary reads it: the pair's output, or its error with the pair it ran. */
function pairResult(execution: unknown): unknown {
  const e = isObject(execution) ? execution : {};
  const parse = (text: unknown): unknown => {
    try {
      return typeof text === "string" ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  if (e.Status === "SUCCEEDED") {
    return parse(e.Output);
  }
  const input = parse(e.Input);
  const pair = isObject(input) ? { account: input.account, region: input.region } : {};
  return { ...pair, Error: typeof e.Error === "string" ? e.Error : "ChildExecutionFailed" };
}

/** Reads the manifest and every result file it lists; returns one result per child execution. */
export async function readMapResults(s3: Pick<S3Client, "send">, location: MapResultsLocation, expectedOwner?: string): Promise<unknown[]> {
  const { Bucket, Key } = location.ResultWriterDetails;
  const manifest = await readJson(s3, Bucket, Key, expectedOwner);
  const files = isObject(manifest) && isObject(manifest.ResultFiles) ? manifest.ResultFiles : undefined;
  if (files === undefined) {
    throw namedError("InvalidMapResultsError", `s3://${Bucket}/${Key} is not a Map Run manifest: ${shown(manifest, 120)}`);
  }
  const results: unknown[] = [];
  for (const status of ["SUCCEEDED", "FAILED", "PENDING"]) {
    const listed = Array.isArray(files[status]) ? (files[status] as unknown[]) : [];
    for (const file of listed) {
      const key = isObject(file) && typeof file.Key === "string" ? file.Key : undefined;
      if (key === undefined) {
        continue;
      }
      const executions = await readJson(s3, Bucket, key, expectedOwner);
      (Array.isArray(executions) ? executions : []).forEach((execution) => results.push(pairResult(execution)));
    }
  }
  return results;
}
