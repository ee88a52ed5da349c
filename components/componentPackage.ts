/**
 * The component package: what `provider.ts` serves when a Pulumi program in any language uses this project
 * (`pulumi package add`). Pulumi's analyzer derives the package schema from the TypeScript types of each component's
 * arguments, and accepts only plain data (interfaces, strings, numbers, booleans, lists, maps, Inputs of them):
 * CloudTrailAlerts (its arguments are the stack config), BucketCreationAlarm and TrailReaderRole. The other components
 * stay TypeScript-only: they take create-or-adopt unions (AlertTopic, AuditTrail, TrailBackfill), sources that are
 * unions or other components (DownloadThresholdAlert, UserActivityNotifier, LogSubscriptionDispatcher), or a function
 * (SecureCallbackFunction).
 */
import * as fs from "fs";
import * as path from "path";

import type { ComponentProviderOptions } from "@pulumi/pulumi/provider/experimental";

import { BucketCreationAlarm } from "./bucketCreationAlarm";
import { CloudTrailAlerts } from "./cloudTrailAlerts";
import { TrailReaderRole } from "./trailReaderRole";

/** The package's name in other languages' SDKs and in its type tokens (`cloudtrail-alerts:index:<Component>`). */
export const PACKAGE_NAME = "cloudtrail-alerts";

/** The components the package serves. */
export const PACKAGE_COMPONENTS = [CloudTrailAlerts, BucketCreationAlarm, TrailReaderRole];

/** The package's root: the nearest directory at or above `from` that holds PulumiPlugin.yaml. */
export function packageDirectory(from: string): string {
  for (let directory = path.resolve(from); ; directory = path.dirname(directory)) {
    if (fs.existsSync(path.join(directory, "PulumiPlugin.yaml"))) {
      return directory;
    }
    if (path.dirname(directory) === directory) {
      throw new Error(`no PulumiPlugin.yaml in ${from} or above it`);
    }
  }
}

/**
 * The options `componentProviderHost` takes: the package's name, components and root (where the analyzer reads
 * package.json, tsconfig.json and the TypeScript sources).
 */
export function componentPackage(directory: string = packageDirectory(__dirname)): ComponentProviderOptions {
  return { name: PACKAGE_NAME, dirname: directory, components: [...PACKAGE_COMPONENTS] };
}
