/**
 * The one vocabulary for validation: a check finds *problems*, each a sentence that starts with the path of the input
 * it is about ("watches[1].threshold must be a whole number >= 1, got 0"). Pure checks return them as a list
 * (`…Problems(value, path): string[]`); callers that validate several inputs collect them with {@link collectProblems}
 * and throw them together, each caller with the error its layer needs (a handler's named error, a component's
 * argument error, a stack's config error).
 */
import { shown } from "./values";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** Where problems go. */
export interface ProblemSink {
  /** Records "`path` must be `expectation`, got <value>" unless `ok(value)`; an undefined value is not checked. */
  check(path: string, value: unknown, ok: (value: never) => boolean, expectation: string): this;
  /** Records a problem found by the caller; `message` starts with the input's path. */
  fail(message: string): this;
}

/** A sink that keeps the problems in order. */
export interface Problems extends ProblemSink {
  readonly list: readonly string[];
  /** Throws `toError(problems joined by "; ")` when there is any. */
  throwIfAny(toError: (message: string) => Error): void;
}

/**
 * Collects problems. `skip` names values that cannot be judged yet and are passed over (a component passes
 * `pulumi.Output.isInstance`: such values are known only at deployment).
 */
export function collectProblems(options: { skip?: (value: unknown) => boolean } = {}): Problems {
  const list: string[] = [];
  const problems: Problems = {
    list,
    check(path, value, ok, expectation) {
      if (value !== undefined && !(options.skip?.(value) ?? false) && !ok(value as never)) {
        list.push(`${path} must be ${expectation}, got ${shown(value)}`);
      }
      return problems;
    },
    fail(message) {
      list.push(message);
      return problems;
    },
    throwIfAny(toError) {
      if (list.length > 0) {
        throw toError(list.join("; "));
      }
    },
  };
  return problems;
}
