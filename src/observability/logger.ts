// Logs: the server's lifecycle lines (human text by default, or pino JSON with structured fields)
// and the opt-in access log (pino JSON, one line per request, written asynchronously).
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

/** One access-log entry: a finished REST or gRPC request. */
export interface AccessEntry {
  readonly requestId: string;
  readonly entrypoint: string;
  readonly api: string;
  readonly model: string;
  readonly version: bigint | undefined;
  readonly signature: string;
  /** gRPC code name. */
  readonly status: string;
  readonly httpStatus: number | undefined;
  readonly latencyMicros: number;
}

/** The access log and how to flush and close it. */
export interface AccessLog {
  /** Appends one JSON line (buffered: written asynchronously). */
  write(entry: AccessEntry): void;
  /** Writes what is buffered and closes the destination (a file; stdout/stderr are only flushed). */
  close(): Promise<void>;
}

/** Whether `text` has a character a JSON string cannot hold as it is (control, quote, backslash). */
function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** A JSON string literal; plain names (the usual case) skip JSON.stringify. */
const jsonString = (text: string): string => (needsEscape(text) ? JSON.stringify(text) : `"${text}"`);

/** The line pino would write for `logger.info(fields, "request")`, built directly: the request path stays cheap. */
export function accessLine(entry: AccessEntry, time: string): string {
  const str = jsonString;
  const version = entry.version === undefined ? "null" : `"${entry.version}"`;
  const http = entry.httpStatus === undefined ? "" : `,"http_status":${entry.httpStatus}`;
  return (
    `{"level":30,"time":"${time}","msg":"request","request_id":${str(entry.requestId)}` +
    `,"entrypoint":"${entry.entrypoint}","api":${str(entry.api)},"model":${str(entry.model)}` +
    `,"version":${version},"signature":${str(entry.signature)},"status":"${entry.status}"${http}` +
    `,"latency_ms":${Math.round(entry.latencyMicros) / 1000}}\n`
  );
}

/**
 * The access log for `--access_log`: "" = off (undefined), "stdout" / "-" or "stderr", or a file
 * path (appended, its directory created). JSON lines in pino's layout (level, time, msg, fields),
 * buffered (16 KiB, at most a second) and written through pino's destination (SonicBoom), so that a
 * request pays little more than formatting its line; `close()` flushes.
 *
 * @example
 * const access = openAccessLog("/var/log/ts-serving/access.log");
 * access?.write({ requestId: "r1", entrypoint: "REST", api: "Predict", model: "m", version: 1n,
 *   signature: "serving_default", status: "OK", httpStatus: 200, latencyMicros: 830 });
 * await access?.close();
 */
export function openAccessLog(target: string): AccessLog | undefined {
  if (target === "") return undefined;
  const dest = target === "stdout" || target === "-" ? 1 : target === "stderr" ? 2 : target;
  const destination = pino.destination({ dest, sync: true, maxWrite: 4 * FLUSH_CHARS, mkdir: true });
  // Lines collect here and go out in one synchronous write per ~16 KiB (~10 µs): far cheaper per
  // line than an asynchronous write each, or SonicBoom's own buffering, which re-measures its whole
  // buffer string on every write. A timer writes out quiet periods each second.
  const pending: string[] = [];
  let pendingChars = 0;
  const flush = () => {
    if (pending.length === 0) return;
    destination.write(pending.join(""));
    pending.length = 0;
    pendingChars = 0;
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  // One ISO string per millisecond: under load many lines share it.
  let lastMs = 0;
  let lastTime = "";
  let closing: Promise<void> | undefined;
  return {
    write(entry) {
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        lastTime = new Date(now).toISOString();
      }
      const line = accessLine(entry, lastTime);
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= FLUSH_CHARS) flush();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        flush();
        if (typeof dest !== "string") return resolve();
        destination.once("close", () => resolve());
        destination.end();
      });
      return closing;
    },
  };
}

/** Buffered access-log characters that trigger a write. */
const FLUSH_CHARS = 16 * 1024;
