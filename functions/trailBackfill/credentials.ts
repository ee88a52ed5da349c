/**
 * The reader roles' credentials: the function assumes each pair account's reader role and pages LookupEvents with a
 * client built from its credentials, one client per role and region for the life of the Lambda instance.
 */
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";

import { assertIsError, namedError } from "../shared/runtime";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The session name of every reader role session, as it appears in the reader account's CloudTrail. */
export const READER_SESSION_NAME = "cloudtrail-alerts-backfill";

/** Temporary credentials as the SDK's credential providers return them. */
export interface ReaderCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Credentials of an assumed reader role, refreshed five minutes before they expire. */
export function readerRoleCredentials(sts: Pick<STSClient, "send">, roleArn: string, externalId: string | undefined, sessionName: string): () => Promise<ReaderCredentials> {
  let current: ReaderCredentials | undefined;
  return async () => {
    if (current !== undefined && current.expiration.getTime() - Date.now() > 5 * 60_000) {
      return current;
    }
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 3600, ...(externalId === undefined ? {} : { ExternalId: externalId }) }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error("AssumeRole returned no credentials");
      }
      current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      return current;
    } catch (error) {
      assertIsError(error);
      if (error.name === "AccessDenied" || error.name === "AccessDeniedException") {
        throw namedError(
          "ReaderRoleAccessDeniedError",
          `cannot assume ${roleArn}: ${error.message}. Deploy the stack so the role trusts this function (and check the external ID and organization condition).`,
        );
      }
      throw error;
    }
  };
}

/**
 * A source of LookupEvents clients with reader role credentials, cached per role (credentials) and per role and region
 * (clients). Each call assumes the role first, so that a refusal fails the pair with a clear error before any paging.
 */
export function readerCloudTrailClients(sts: Pick<STSClient, "send">, externalId: string | undefined): (roleArn: string, region: string) => Promise<CloudTrailClient> {
  const credentials = new Map<string, () => Promise<ReaderCredentials>>();
  const clients = new Map<string, CloudTrailClient>();
  return async (roleArn, region) => {
    let provider = credentials.get(roleArn);
    if (provider === undefined) {
      provider = readerRoleCredentials(sts, roleArn, externalId, READER_SESSION_NAME);
      credentials.set(roleArn, provider);
    }
    await provider();
    const key = `${roleArn} ${region}`;
    let client = clients.get(key);
    if (client === undefined) {
      // Every request goes through the rate limiter: no SDK retries of its own, and no request hangs for long.
      client = new CloudTrailClient({ region, credentials: provider, maxAttempts: 1, requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 } });
      clients.set(key, client);
    }
    return client;
  };
}
