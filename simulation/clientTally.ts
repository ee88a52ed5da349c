/**
 * What a benchmark counts of an AWS client, from the client's side: the calls the code sends, and the throttling
 * answers it gets, classified as the handlers classify them (`isThrottlingError` in functions/shared/retry.ts). On
 * an SDK client a middleware inside the SDK's retry loop counts every throttled attempt, the ones the SDK retries on
 * its own included; on a plain `send` (a fake's `sender()`), each throttling error it throws.
 */
import { isThrottlingError } from "../functions/shared/retry";

/** Counts of one or more clients. */
export interface ClientTally {
  /** Commands sent by the code. */
  calls: number;
  /** Attempts answered with throttling. */
  throttled: number;
}

type Sender = { send(...args: never[]): Promise<unknown> };
type MiddlewareStack = { add(middleware: unknown, options: { step: string; name: string; priority?: string }): void; identify?(): string[] };

const MIDDLEWARE_NAME = "benchmarkThrottleTally";
/** The tally each SDK client's middleware adds to (one middleware per client, however often it is wrapped). */
const tallies = new WeakMap<object, ClientTally[]>();

export function newTally(): ClientTally {
  return { calls: 0, throttled: 0 };
}

/** `client` with its calls and throttled attempts added to `tally`. */
export function tallied<C extends Sender>(client: C, tally: ClientTally): Pick<C, "send"> {
  const stack = (client as { middlewareStack?: MiddlewareStack }).middlewareStack;
  if (stack !== undefined) {
    countThrottledAttempts(client, stack, tally);
  }
  return {
    send: (...args: never[]) => {
      tally.calls += 1;
      return client.send(...args).catch((error: unknown) => {
        if (stack === undefined && error instanceof Error && isThrottlingError(error)) {
          tally.throttled += 1;
        }
        throw error;
      });
    },
  };
}

/** Adds the per-attempt middleware to an SDK client, once; it counts into every tally the client was wrapped with. */
function countThrottledAttempts(client: object, stack: MiddlewareStack, tally: ClientTally): void {
  const known = tallies.get(client);
  if (known !== undefined) {
    known.push(tally);
    return;
  }
  const targets = [tally];
  tallies.set(client, targets);
  // The deserialize step runs inside the retry middleware (finalizeRequest): once per attempt, after the service's
  // error is parsed into its named exception.
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (error) {
      if (error instanceof Error && isThrottlingError(error)) {
        for (const target of targets) target.throttled += 1;
      }
      throw error;
    }
  };
  stack.add(middleware, { step: "deserialize", name: MIDDLEWARE_NAME, priority: "high" });
}
