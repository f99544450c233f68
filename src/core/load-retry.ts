import { ServingError } from "../errors.js";
import type { Servable } from "../runtime/servable.js";

/** Loads a version directory (default: `loadServable`). */
export type LoadFn = (dir: string) => Promise<Servable>;

/**
 * Runs while a version is LOADING, after its load: e.g. replaying `assets.extra` warmup requests.
 * A rejection fails the load (and is retried like one); the servable is closed first.
 */
export type WarmupFn = (
  servable: Servable,
  dir: string,
  id: { model: string; version: bigint },
) => Promise<void>;

export interface LoadRetryOptions {
  readonly load: LoadFn;
  readonly warmup?: WarmupFn | undefined;
  /** Retries after the first failed attempt (TF Serving's --max_num_load_retries). */
  readonly maxNumLoadRetries: number;
  /** Wait between attempts. */
  readonly loadRetryIntervalMs: number;
}

/** Lets the manager stop a load's retries (the version is no longer aspired, or the server stops). */
export class RetryControl {
  private wake: (() => void) | undefined;
  cancelled = false;

  cancel(): void {
    this.cancelled = true;
    this.wake?.();
  }

  /** Waits `ms`, or less if cancelled meanwhile. */
  async sleep(ms: number): Promise<void> {
    if (this.cancelled || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }
}

/**
 * Loads (and warms up) a version, retrying failures `maxNumLoadRetries` times `loadRetryIntervalMs`
 * apart, as TF Serving's LoaderHarness does; stops early when `control` is cancelled. Rejects with
 * the last attempt's error, as a ServingError. `onRetry` is told of each failure that will be retried.
 */
export async function loadWithRetries(
  dir: string,
  id: { model: string; version: bigint },
  options: LoadRetryOptions,
  control: RetryControl,
  onRetry: (attempt: number, error: ServingError) => void,
): Promise<Servable> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadOnce(dir, id, options);
    } catch (thrown: unknown) {
      const error = ServingError.from(thrown);
      if (attempt > options.maxNumLoadRetries || control.cancelled) throw error;
      onRetry(attempt, error);
      await control.sleep(options.loadRetryIntervalMs);
      if (control.cancelled) throw error;
    }
  }
}

async function loadOnce(
  dir: string,
  id: { model: string; version: bigint },
  options: LoadRetryOptions,
): Promise<Servable> {
  const servable = await options.load(dir);
  if (!options.warmup) return servable;
  try {
    await options.warmup(servable, dir, id);
  } catch (error: unknown) {
    await servable.close().catch(() => undefined);
    throw error;
  }
  return servable;
}
