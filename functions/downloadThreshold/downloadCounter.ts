/** What the handler asks of a counter; the DynamoDB counter and the logs counter both answer it. */
import type { CountingWindow } from "./countingWindow";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The outcome of counting one download. */
export type CountResult =
  /** Counted now; `count` is its position among the window's downloads of the object (1 for the first). */
  | { counted: true; count: number; counterFull?: boolean }
  /**
   * Not counted: the event was counted before (a redelivery) or the window's counter is full. `unsettled` is set when
   * the earlier count's alert may not have gone out: it was kept after a failed publish, or this is Lambda's retry of
   * the very invocation that counted it (killed, timed out or failed before it could settle it).
   */
  | { counted: false; reason: string; unsettled?: { count: number; counterFull?: boolean } };

/** Counts downloads per object and window. */
export interface DownloadCounter {
  /**
   * Counts `download` in `window`; `deadline` (on the handler's clock) bounds waiting for throttling. `attempt`
   * identifies the invocation (see `attemptTag` in dynamoDbCounter.ts); a retry of the same invocation has the same one.
   */
  count(download: WatchedDownload, window: CountingWindow, deadline: number, attempt: number): Promise<CountResult>;
  /**
   * Records what became of the alert of the download counted at `count`: `sent`, or `pending` (publishing failed: the
   * next delivery of the event, whichever invocation gets it, sends it). Absent: nothing is recorded, and a retried
   * event is not alerted again.
   */
  settle?(download: WatchedDownload, window: CountingWindow, count: number, state: "sent" | "pending"): Promise<void>;
}
