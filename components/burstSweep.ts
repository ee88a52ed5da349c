import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { BURST_SWEEP_EVENT } from "../functions/userActivity/bursts";
import type { InvokedFunction } from "./eventSources";

/**
 * How often the sweep runs: a summary goes out at most this long after its window closed. EventBridge schedules are
 * at least one minute apart.
 */
export const BURST_SWEEP_SCHEDULE = "rate(1 minute)";

/** What the sweep schedule created. */
export interface BurstSweep {
  rule: aws.cloudwatch.EventRule;
  target: aws.cloudwatch.EventTarget;
  /** Lets this rule, and nothing else, invoke the function. */
  permission: aws.lambda.Permission;
}

/**
 * A rule that invokes a UserActivityNotifier's function every minute with the sweep's input, so that the summaries of
 * closed burst windows (and of the hours the message cap held back) are sent even when no further event comes. A
 * missed run costs nothing but a minute (the next run sweeps everything that is due), so the target neither retries
 * late runs nor keeps them in a dead-letter queue: an invocation older than a minute is dropped.
 */
export function burstSweepSchedule(name: string, fn: InvokedFunction, purpose: string, opts: { parent: pulumi.Resource }): BurstSweep {
  const rule = new aws.cloudwatch.EventRule(name, { description: `cloudtrail-alerts: sends the due burst summaries of ${purpose}`, scheduleExpression: BURST_SWEEP_SCHEDULE }, opts);
  const permission = new aws.lambda.Permission(
    `${name}-permission`,
    {
      action: "lambda:InvokeFunction",
      function: fn.functionName,
      principal: "events.amazonaws.com",
      // Only this rule may invoke the function.
      sourceArn: rule.arn,
    },
    opts,
  );
  const target = new aws.cloudwatch.EventTarget(
    `${name}-target`,
    { rule: rule.name, arn: fn.functionArn, input: JSON.stringify(BURST_SWEEP_EVENT), retryPolicy: { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 0 } },
    // EventBridge invokes the function as soon as the target exists: the permission comes first.
    { ...opts, dependsOn: [permission] },
  );
  return { rule, target, permission };
}
