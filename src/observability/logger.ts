// The server's lifecycle log: human text lines by default, or pino JSON with structured fields. (The
// per-request access log is access-log.ts.)
import { pino } from "pino";

/** Structured fields of a lifecycle line (JSON format); text format prints the line only. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** A lifecycle log: the human line, plus fields for the JSON format. */
export type LifecycleLog = (line: string, fields?: LogFields) => void;

export type LogFormat = "text" | "json";

/**
 * The server's lifecycle log on `stream` (stderr): text lines `<ISO time> <line>`, or JSON lines
 * (pino: level, time, msg = the line, plus the fields). Lines with an `error` field are warnings.
 *
 * @example
 * const log = lifecycleLog("json");
 * log("model m version 1: AVAILABLE", { event: "version_state", model: "m", version: "1", state: "AVAILABLE" });
 */
export function lifecycleLog(
  format: LogFormat,
  stream: NodeJS.WritableStream = process.stderr,
): LifecycleLog {
  if (format === "text") {
    return (line) => {
      stream.write(`${new Date().toISOString()} ${line}\n`);
    };
  }
  const logger = pino({ base: { name: "ts-serving" }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return (line, fields) => {
    if (fields?.error !== undefined) logger.warn(fields, line);
    else logger.info(fields ?? {}, line);
  };
}
