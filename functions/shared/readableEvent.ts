/**
 * Turning the parts of a CloudTrail record people care about into words: who did it, when in local time, on what,
 * and whether it failed. Pure functions, shared by every handler that writes alerts.
 */
import type { CloudTrailRecord, UserIdentity } from "./cloudtrailEvents";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Languages alert bodies are written in. */
export type Language = "ja" | "en";

/**
 * Formats an instant (an ISO 8601 string such as a record's `eventTime`, or a `Date`) in `timeZone` with its UTC
 * offset: `2023-04-25 18:47:10 +09:00` for `2023-04-25T09:47:10Z` in Asia/Tokyo. Fractions of a second are dropped.
 * An unparsable string is returned unchanged (an invalid `Date` as `Invalid Date`). Throws a `RangeError` for a time
 * zone that is not an IANA name.
 */
export function formatLocalTime(at: string | Date, timeZone: string): string {
  const millis = typeof at === "string" ? Date.parse(at) : at.getTime();
  if (Number.isNaN(millis)) {
    return String(at);
  }
  const seconds = Math.floor(millis / 1000) * 1000;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date(seconds))
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const year = Number(parts.year);
  const asUtc = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  const offsetMinutes = Math.round((asUtc - seconds) / 60000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${String(year).padStart(4, "0")}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}

/**
 * A record's `eventTime` in `timeZone` (see {@link formatLocalTime}), on one line; undefined when the record has no
 * time as text. A time that cannot be read is shown as written.
 */
export function formatEventTime(eventTime: unknown, timeZone: string): string | undefined {
  return typeof eventTime === "string" && eventTime.trim() !== "" ? oneLine(formatLocalTime(eventTime, timeZone)) : undefined;
}

/**
 * `value` on one line: control characters (a line break in a user agent, for example) and Unicode line separators
 * become a space, so that a value taken from a record cannot forge lines of a message.
 */
export function oneLine(value: string): string {
  return value.replace(/[\p{Cc}\u2028\u2029]+/gu, " ").trim();
}

/** Values CloudTrail puts in place of data it will not log. */
const HIDDEN_MARKERS: readonly RegExp[] = [/^HIDDEN_DUE_TO_SECURITY_REASONS$/i, /hidden due to security reasons/i];

/** Fields whose values are secrets, whatever CloudTrail wrote in them. */
const SECRET_FIELDS = /^(tokenValue|password|newPassword|oldPassword|secretAccessKey|sessionToken|privateKey|secretString|secretBinary|clientSecret|credentials?|authorizationToken|token)$/i;

/** True for a value CloudTrail marked as hidden (for example `HIDDEN_DUE_TO_SECURITY_REASONS`). */
export function isHiddenValue(value: unknown): boolean {
  return typeof value === "string" && HIDDEN_MARKERS.some((marker) => marker.test(value));
}

/**
 * A deep copy of `value` without secrets: fields named like secrets (`tokenValue`, `password`, `secretAccessKey`, ...)
 * and fields whose value CloudTrail marked as hidden are left out entirely, so neither the value nor the field appears.
 */
export function redactHidden(value: unknown): unknown {
  if (Array.isArray(value)) {
    return (value as unknown[]).filter((item) => !isHiddenValue(item)).map(redactHidden);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, item]) => !SECRET_FIELDS.test(key) && !isHiddenValue(item))
        .map(([key, item]) => [key, redactHidden(item)]),
    );
  }
  return value;
}

/** What kind of identity made a call. */
export type PrincipalKind =
  | "iam-user"
  | "assumed-role"
  | "identity-center-user"
  | "root"
  | "aws-service"
  | "federated-user"
  | "aws-account"
  | "web-identity-user"
  | "saml-user"
  | "unknown";

/** The identity of a call, reduced to what a reader needs. */
export interface Principal {
  kind: PrincipalKind;
  /** The name a person recognises: user name, session name, `root`, the service; never empty. */
  name: string;
  /** True when CloudTrail hid the name (a failed sign-in with a user name that does not exist). */
  nameHidden?: boolean;
  /** For assumed roles: the role's name. */
  roleName?: string;
  /** For IAM Identity Center sessions: the permission set. */
  permissionSet?: string;
  /** The account the identity belongs to, when known. */
  accountId?: string;
}

/** `value` when it is text worth showing: a string, not blank, not a value CloudTrail hid; otherwise undefined. */
export function textOf(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" && !isHiddenValue(value) ? value : undefined;
}

const text = textOf;

/** The object `value` is, or an empty one: fields of a record may hold anything. */
function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The account ID an ARN names (`arn:aws:iam::123456789012:user/x`), if it names one. */
export function accountOfArn(arn: unknown): string | undefined {
  const account = typeof arn === "string" ? arn.split(":")[4] : undefined;
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/** The last `/`-separated part of an ARN, e.g. the session name of an assumed-role ARN. */
function lastSegment(arn: string | undefined): string | undefined {
  const segment = arn?.split("/").pop();
  return segment === undefined || segment === arn ? undefined : text(segment);
}

// IAM Identity Center's roles are named AWSReservedSSO_<permission set>_<16 hex>.
const SSO_ROLE = /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/;

/** Reduces a CloudTrail `userIdentity` to a {@link Principal}, for every documented identity type. */
export function identifyPrincipal(identity: UserIdentity | undefined): Principal {
  const id = (identity === undefined ? { type: "Unknown" } : objectOf(identity)) as UserIdentity;
  const issuer = objectOf(objectOf(id.sessionContext).sessionIssuer);
  // Without accountId, the account the identity's ARN (or its session issuer's) names.
  const accountId = text(id.accountId) ?? accountOfArn(id.arn) ?? accountOfArn(issuer.arn);
  const withAccount = (p: Principal): Principal => (accountId === undefined ? p : { ...p, accountId });
  const fallbackName = text(id.userName) ?? text(id.principalId) ?? text(id.arn) ?? accountId ?? `unknown ${text(id.type) ?? "identity"}`;
  // AWS service events name no type: their identity is { accountId, invokedBy }.
  const type = id.type === undefined && text(id.invokedBy) !== undefined ? "AWSService" : id.type;
  switch (type) {
    case "IAMUser": {
      const name = text(id.userName) ?? lastSegment(text(id.arn)) ?? text(id.principalId);
      return withAccount(name === undefined ? { kind: "iam-user", name: "unknown", nameHidden: true } : { kind: "iam-user", name });
    }
    case "Root":
      return withAccount({ kind: "root", name: "root" });
    case "AssumedRole": {
      const roleName = text(issuer.userName) ?? text(text(id.arn)?.split("/")[1]) ?? "unknown role";
      const session = lastSegment(text(id.arn)) ?? text(text(id.principalId)?.split(":")[1]) ?? "(no session name)";
      const sso = SSO_ROLE.exec(roleName);
      if (sso) {
        return withAccount({ kind: "identity-center-user", name: session, roleName, permissionSet: sso[1] });
      }
      return withAccount({ kind: "assumed-role", name: session, roleName });
    }
    case "IdentityCenterUser":
      return withAccount({ kind: "identity-center-user", name: text(id.userName) ?? text(objectOf(id.onBehalfOf).userId) ?? fallbackName });
    case "AWSService":
      return withAccount({ kind: "aws-service", name: text(id.invokedBy) ?? text(id.principalId) ?? "AWS service" });
    case "FederatedUser":
      return withAccount({ kind: "federated-user", name: lastSegment(text(id.arn)) ?? text(text(id.principalId)?.split(":")[1]) ?? fallbackName });
    case "AWSAccount":
      return withAccount({ kind: "aws-account", name: text(id.principalId) ?? accountId ?? "another AWS account" });
    case "WebIdentityUser":
      return withAccount({ kind: "web-identity-user", name: fallbackName });
    case "SAMLUser":
      return withAccount({ kind: "saml-user", name: fallbackName });
    default:
      return withAccount({ kind: "unknown", name: fallbackName });
  }
}

const KIND_WORDS: Record<PrincipalKind, Record<Language, string>> = {
  "iam-user": { en: "IAM user", ja: "IAM ユーザー" },
  "assumed-role": { en: "assumed role", ja: "引き受けたロール" },
  "identity-center-user": { en: "IAM Identity Center user", ja: "IAM Identity Center ユーザー" },
  root: { en: "root user", ja: "ルートユーザー" },
  "aws-service": { en: "AWS service", ja: "AWS サービス" },
  "federated-user": { en: "federated user", ja: "フェデレーションユーザー" },
  "aws-account": { en: "another AWS account", ja: "別の AWS アカウント" },
  "web-identity-user": { en: "web identity user", ja: "ウェブ ID ユーザー" },
  "saml-user": { en: "SAML user", ja: "SAML ユーザー" },
  unknown: { en: "identity type", ja: "ID 種別" },
};

/**
 * One line saying who made the call, meaningful for every identity type and never blank:
 * `hogehoge (IAM user)`, `deploy-session (assumed role ci-deployer)`,
 * `alice@example.com (IAM Identity Center user, permission set ReadOnly)`, `root (root user of account 123456789012)`,
 * `ssm.amazonaws.com (AWS service)`; in Japanese with `language: "ja"`.
 */
export function describePrincipal(identity: UserIdentity | undefined, language: Language = "en"): string {
  const p = identifyPrincipal(identity);
  const kind = KIND_WORDS[p.kind][language];
  const ja = language === "ja";
  if (p.nameHidden) {
    return ja ? `名前不明 (${kind}、CloudTrail が名前を伏せています)` : `unknown (${kind}, name hidden by CloudTrail)`;
  }
  switch (p.kind) {
    case "assumed-role":
      return ja ? `${p.name} (ロール ${p.roleName ?? ""} を引き受けたセッション)` : `${p.name} (assumed role ${p.roleName ?? ""})`;
    case "identity-center-user":
      return p.permissionSet === undefined
        ? `${p.name} (${kind})`
        : ja
          ? `${p.name} (${kind}、許可セット ${p.permissionSet})`
          : `${p.name} (${kind}, permission set ${p.permissionSet})`;
    case "root":
      return p.accountId === undefined ? `root (${kind})` : ja ? `root (アカウント ${p.accountId} の${kind})` : `root (${kind} of account ${p.accountId})`;
    case "unknown":
      return `${p.name} (${kind} ${text(identity?.type) ?? "-"})`;
    default:
      return `${p.name} (${kind})`;
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * A short ASCII name of the caller for a mail subject: the user name, `role/session` for assumed roles, the session
 * (user) name for IAM Identity Center, `root`, the service. Names with other characters fall back to an ASCII
 * identifier (role name, principal ID) so that the subject still says who.
 */
export function principalName(identity: UserIdentity | undefined): string {
  const p = identifyPrincipal(identity);
  if (p.nameHidden) {
    return "unknown user (name hidden)";
  }
  const candidates =
    p.kind === "assumed-role"
      ? [`${p.roleName ?? ""}/${p.name}`, p.roleName]
      : p.kind === "identity-center-user"
        ? [p.name, p.permissionSet === undefined ? undefined : `IdentityCenter/${p.permissionSet}`]
        : [p.name];
  const ascii = candidates.find((c): c is string => c !== undefined && PRINTABLE_ASCII.test(c));
  const type = text(identity?.type);
  return ascii ?? `a non-ASCII name (${type !== undefined && PRINTABLE_ASCII.test(type) ? type : "unknown type"})`;
}

/** The service part of an event source: `ssm` for `ssm.amazonaws.com`. */
export function serviceName(eventSource: string): string {
  return eventSource.replace(/\.amazonaws\.com$/, "");
}

const NO_EVENT_NAME: Record<Language, string> = { en: "(no event name)", ja: "(イベント名なし)" };

/**
 * The call a record is of, as `service:EventName` (`ssm:StartSession`); the event name alone without an event source,
 * and a note in `language` in place of a missing event name.
 */
export function callName(record: Pick<CloudTrailRecord, "eventSource" | "eventName">, language: Language = "en"): string {
  const source = text(record.eventSource);
  const name = text(record.eventName) ?? NO_EVENT_NAME[language];
  return source === undefined ? name : `${serviceName(source)}:${name}`;
}

/** Why a call failed, or undefined when it succeeded (a console sign-in failure carries no error code). */
export function failureOf(record: CloudTrailRecord): { code?: string; message?: string } | undefined {
  const code = text(record.errorCode);
  const message = text(record.errorMessage);
  const consoleResult = objectOf(record.responseElements).ConsoleLogin;
  if (code === undefined && message === undefined && consoleResult !== "Failure") {
    return undefined;
  }
  return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
}

/** Request parameters that name the resource a call acted on, most specific first. */
const TARGET_KEYS: readonly string[] = [
  "target",
  "instanceId",
  "sessionId",
  "bucketName",
  "key",
  "roleName",
  "userName",
  "groupName",
  "policyName",
  "policyArn",
  "roleArn",
  "instanceProfileName",
  "functionName",
  "trailName",
  "name",
  "stackName",
  "tableName",
  "keyId",
  "secretId",
  "topicArn",
  "queueUrl",
  "logGroupName",
  "clusterName",
  "dBInstanceIdentifier",
  "repositoryName",
  "resourceArn",
];

const MAX_TARGETS_SHOWN = 3;

/**
 * The resource a call acted on, taken from the record: the SSM target instance, the bucket (and, for `CreateBucket`,
 * the Region it was created in), the role or policy, instances of EC2 calls, otherwise the `resources` ARNs.
 * Undefined when the record names none.
 */
export function describeTarget(record: CloudTrailRecord): string | undefined {
  const params = objectOf(record.requestParameters);
  const found = TARGET_KEYS.map((key) => [key, text(params[key])] as const).filter((e): e is readonly [string, string] => e[1] !== undefined);
  if (record.eventName === "CreateBucket" && typeof params.bucketName === "string") {
    const configuration = params.CreateBucketConfiguration as { LocationConstraint?: unknown } | undefined;
    // Without a LocationConstraint, S3 creates the bucket in us-east-1.
    const location = text(configuration?.LocationConstraint) ?? "us-east-1";
    return `${params.bucketName} (${location})`;
  }
  if (found.length === 1) {
    return found[0][1];
  }
  if (found.length > 1) {
    return found.map(([key, value]) => `${key}=${value}`).join(", ");
  }
  const items = (params.instancesSet as { items?: Array<{ instanceId?: unknown }> } | undefined)?.items;
  const instances = Array.isArray(items) ? items.map((item) => text(item?.instanceId)).filter((v): v is string => v !== undefined) : [];
  const resources: unknown[] = Array.isArray(record.resources) ? record.resources : [];
  const arns = resources.map((r) => text(objectOf(r).ARN)).filter((v): v is string => v !== undefined);
  const list = instances.length > 0 ? instances : arns;
  if (list.length === 0) {
    return undefined;
  }
  const more = list.length > MAX_TARGETS_SHOWN ? ` (+${list.length - MAX_TARGETS_SHOWN})` : "";
  return `${list.slice(0, MAX_TARGETS_SHOWN).join(", ")}${more}`;
}
