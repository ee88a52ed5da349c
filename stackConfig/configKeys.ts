/**
 * The config keys of the stack as a whole: a key in the AWS provider's namespace that the provider does not have is
 * a typo the provider would ignore without a word (`aws:allowedAccountId` for `aws:allowedAccountIds` drops the
 * wrong-account guard), so it is refused.
 */
import * as pulumi from "@pulumi/pulumi";

import { StackConfigError } from "./reader";

/**
 * The AWS provider's config variables, read from the installed `@pulumi/aws` (its `config/vars` module defines one
 * property per variable of the provider's schema), so the list follows the provider version.
 */
export function awsProviderConfigNames(): string[] {
  const vars = require("@pulumi/aws/config/vars") as object;
  return Object.getOwnPropertyNames(vars).filter((name) => name !== "__esModule");
}

/** The keys of the stack's config (`namespace:name`), as Pulumi passes them to the program. */
export function pulumiConfigKeys(): string[] {
  return Object.keys(pulumi.runtime.allConfig());
}

/** Edit distance, for suggesting the key that was meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** Throws {@link StackConfigError} for the first `aws:` key the provider does not define, suggesting the closest one. */
export function checkConfigKeys(keys: readonly string[], providerNames: readonly string[] = awsProviderConfigNames()): void {
  const known = new Set(providerNames);
  for (const key of keys) {
    const [namespace, name] = key.split(":", 2);
    if (namespace !== "aws" || name === undefined || known.has(name)) {
      continue;
    }
    const closest = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
    const hint = closest !== undefined && distance(name, closest) <= 3 ? `; did you mean aws:${closest}?` : "";
    throw new StackConfigError(key, `${key} is not a config key of the AWS provider (@pulumi/aws), which would ignore it${hint}`);
  }
}
