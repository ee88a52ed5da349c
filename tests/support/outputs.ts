import * as pulumi from "@pulumi/pulumi";

/** Resolves an Output's value (never `done` inside `apply`). Tests run the engine like `pulumi up`, so values are known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => output.apply((value) => resolve(value)));
}
