/** What the handler asks of a counter; the DynamoDB counter and the logs counter both answer it. */
import type { CountingWindow } from "./countingWindow";
import type { WatchedDownload } from "./watchedDownload";

/** See runtime.ts: serialize this module into Lambda archives by value. */
export const deploymentOnlyModule = true;

/** The outcome of counting one download. */
export type CountResult =
  /** Counted now; `count` is its position among the window's downloads of the object (1 for the first). */
  | { counted: true; count: number }
  /**
   * Not counted now: the download was counted before (a redelivery). `unsettled` is set when the earlier count's
   * alert may not have gone out: its publishing failed, or the invocation that counted it died before it could record
   * what became of the alert.
   */
  | { counted: false; reason: string; unsettled?: { count: number } };

/** The invocation that counts: how long it may wait, and who it is for the counter's claims. */
export interface CountingAttempt {
  /** On the handler's clock: when waiting out throttling must end (the logs counter). */
  deadline: number;
  /** Who counts: Lambda's request ID (the same for Lambda's retries of one invocation), or a random ID. */
  owner: string;
  /** On the handler's clock: when this invocation is surely over, so that another may take over what it claimed. */
  leaseEndsAt: number;
}

/** Counts downloads per object and window. */
export interface DownloadCounter {
  /** Counts `download` in `window` for `attempt`. */
  count(download: WatchedDownload, window: CountingWindow, attempt: CountingAttempt): Promise<CountResult>;
  /**
   * Records what became of the alert of a download counted now or left unsettled (`count` is its position): `sent`,
   * `none` (no alert was due) or `pending` (publishing failed: whichever invocation gets the event next sends it).
   * The handler calls it for every such download once its alerts are published. Absent: nothing is recorded.
   */
  settle?(download: WatchedDownload, window: CountingWindow, count: number, state: "sent" | "none" | "pending"): Promise<void>;
}
