// --traffic_split_file: loaded at startup (a bad file fails the start, like a bad model config),
// then re-read on the model config's poll period and on SIGHUP; a bad file at a reload is logged
// and the split in force stays.
import { readConfigFile } from "../core/config-file.js";
import { parseTrafficSplit, readTrafficSplitFile, type TrafficSplit } from "../core/traffic-split.js";
import { ServingError } from "../errors.js";

/** What the file feeds (ServerCore satisfies it). */
export interface TrafficSplitTarget {
  setTrafficSplit(split: TrafficSplit): void;
}

/**
 * The server's traffic split file. `reload` applies the file when its text changed since the last
 * attempt (or always, with `force`, as SIGHUP does: a split rejected for a label that a later config
 * reload defined is then retried).
 *
 * @example
 * const file = await TrafficSplitFile.open("/models/traffic.json", core, log);
 * const stop = file.poll(5);
 * process.on("SIGHUP", () => void file.reload(true));
 */
export class TrafficSplitFile {
  private lastText: string | undefined;
  private reloading: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly target: TrafficSplitTarget,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads and applies the file; throws (INVALID_ARGUMENT, NOT_FOUND) when it is missing or bad. */
  static async open(
    path: string,
    target: TrafficSplitTarget,
    log: (line: string) => void,
  ): Promise<TrafficSplitFile> {
    const file = new TrafficSplitFile(path, target, log);
    const { split, text } = await readTrafficSplitFile(path);
    target.setTrafficSplit(split);
    file.lastText = text;
    log(`traffic split from ${path}: ${describeSplit(split)}`);
    return file;
  }

  /** Re-reads the file; errors are logged and the split in force stays. Reloads run one at a time. */
  reload(force = false): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      let text: string;
      let unreadable: ServingError | undefined;
      try {
        text = await readConfigFile(this.path);
      } catch (error: unknown) {
        unreadable = ServingError.from(error);
        // Marked so that a missing file is reported once, and its return applied.
        text = `\u0000${unreadable.message}`;
      }
      if (!force && text === this.lastText) return;
      this.lastText = text;
      try {
        if (unreadable) throw unreadable;
        const split = parseTrafficSplit(text, this.path);
        this.target.setTrafficSplit(split);
        this.log(`traffic split from ${this.path}: ${describeSplit(split)}`);
      } catch (error: unknown) {
        const message = ServingError.from(error).message;
        this.log(`traffic split reload from ${this.path} failed, keeping the current split: ${message}`);
      }
    });
    return this.reloading;
  }

  /** Re-reads every `seconds` (≤ 0: never); returns the function that stops polling. */
  poll(seconds: number): () => void {
    if (seconds <= 0) return () => {};
    const timer = setInterval(() => void this.reload(), seconds * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** `ranking: stable 90, canary 10 (sticky x-user-id)` — one log line per applied split. */
export function describeSplit(split: TrafficSplit): string {
  if (split.size === 0) return "none (every model serves its latest version)";
  return [...split]
    .map(([model, s]) => {
      const weights = s.entries.map((e) => `${e.key} ${e.weight}`).join(", ");
      const sticky = s.stickyHeader ? ` (sticky ${s.stickyHeader})` : "";
      const shadow = s.shadow ? `${weights ? ", " : ""}shadow ${s.shadow.key} at ${s.shadow.percent}%` : "";
      return `${model}: ${weights}${sticky}${shadow}`;
    })
    .join("; ");
}
