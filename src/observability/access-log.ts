// The opt-in access log (`--access_log`): one JSON line per request in pino's layout, encoded straight
// into ~256 KiB blocks that a BlockWriter appends asynchronously. Lines are written byte by byte, with
// no string built per request: in a server under load, building each line as a JS string (about ten
// concatenations and a number-to-string) cost ~10 µs of CPU per request, against ~1 µs for the same
// work in isolation (bench/observability.ts; bench/README.md).
import { BlockWriter } from "./block-writer.js";

/** One finished REST or gRPC request, as the access log reads it (a RequestScope is one). */
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
}

/** The access log and how to flush and close it. */
export interface AccessLog {
  /** Appends one JSON line (buffered: written once 256 KiB have collected, or within a second). */
  write(entry: AccessEntry, latencyMicros: number): void;
  /** Writes what is buffered and closes the destination (a file; stdout/stderr are only flushed). */
  close(): Promise<void>;
}

/**
 * Buffered access-log bytes that trigger a write. Each write has a fixed cost (a thread-pool hand-off
 * and the syscall): writing 500,000 lines to a file took ~0.9 µs of CPU a line in all with 256 KiB
 * blocks, ~2.3 µs with 16 KiB ones (2-core VM).
 */
const FLUSH_BYTES = 256 * 1024;
/** Room for one more line past FLUSH_BYTES; a longer line is written on its own. */
const LINE_ROOM = 8 * 1024;

const ascii = (text: string): Uint8Array => Buffer.from(text, "latin1");
/** Bytes of the fixed parts and numbers of a line, with margin. */
const FIXED_BYTES = 160;
/** The most bytes one UTF-16 unit of a JSON string can take (`\u001f`). */
const MAX_BYTES_PER_UNIT = 6;

/**
 * Encodes access-log lines into byte buffers. A line is four runs of bytes that repeat from line to
 * line, each encoded once and copied while it lasts, and the two values that change every time:
 * `{"level":30,"time":"<ISO time>","msg":"request","request_id":"` (per millisecond), the request id,
 * `","entrypoint":…,"signature":"…","status":"` (per model, version, signature, API), then
 * `<status>","http_status":<code>,"latency_ms":` (per status) and the latency.
 *
 * @example
 * const encoder = new AccessLineEncoder();
 * const bytes = Buffer.alloc(encoder.maxBytes(entry));
 * const end = encoder.encode(entry, 830, Date.now(), bytes, 0);
 * bytes.toString("utf8", 0, end); // '{"level":30,"time":"…","msg":"request",…,"latency_ms":0.83}\n'
 */
export class AccessLineEncoder {
  private timeMs = Number.NaN;
  private head: Uint8Array = new Uint8Array(0);
  private fieldsOf: RepeatedFields | undefined;
  private fields: Uint8Array = new Uint8Array(0);
  private statusOf: { readonly status: string; readonly httpStatus: number | undefined } | undefined;
  private statusBytes: Uint8Array = new Uint8Array(0);

  /** An upper bound on the bytes of `entry`'s line. */
  maxBytes(entry: AccessEntry): number {
    return (
      FIXED_BYTES +
      this.fieldBytes(entry).length +
      this.statusAndLabel(entry).length +
      MAX_BYTES_PER_UNIT * entry.requestId.length
    );
  }

  /** Writes the line at `offset` of `target` (room: `maxBytes(entry)`); returns where it ends. */
  encode(entry: AccessEntry, latencyMicros: number, nowMs: number, target: Buffer, offset: number): number {
    let at = copy(target, offset, this.headBytes(nowMs));
    at = writeJsonText(target, at, entry.requestId);
    at = copy(target, at, this.fieldBytes(entry));
    at = copy(target, at, this.statusAndLabel(entry));
    at = writeMillis(target, at, latencyMicros);
    target[at] = 0x7d; // "}"
    target[at + 1] = 0x0a; // "\n"
    return at + 2;
  }

  /** The line's start up to the request id, with the ISO time of `nowMs`: under load many lines share it. */
  private headBytes(nowMs: number): Uint8Array {
    if (nowMs !== this.timeMs) {
      this.timeMs = nowMs;
      this.head = ascii(
        `{"level":30,"time":"${new Date(nowMs).toISOString()}","msg":"request","request_id":"`,
      );
    }
    return this.head;
  }

  /** `"<request_id>` is followed by these: `","entrypoint":…,"signature":"…","status":"`. */
  private fieldBytes(entry: AccessEntry): Uint8Array {
    const last = this.fieldsOf;
    if (
      last === undefined ||
      last.model !== entry.model ||
      last.version !== entry.version ||
      last.signature !== entry.signature ||
      last.api !== entry.api ||
      last.entrypoint !== entry.entrypoint
    ) {
      const versionText = entry.version === undefined ? "null" : `"${entry.version}"`;
      this.fields = Buffer.from(
        `",${jsonMember("entrypoint", entry.entrypoint)},${jsonMember("api", entry.api)},${jsonMember("model", entry.model)}` +
          `,"version":${versionText},${jsonMember("signature", entry.signature)},"status":"`,
      );
      // Copied: the entry may be a RequestScope, which is not ours to keep.
      const { entrypoint, api, model, version, signature } = entry;
      this.fieldsOf = { entrypoint, api, model, version, signature };
    }
    return this.fields;
  }

  /** The status's value, then the HTTP status when there is one, up to the latency's value. */
  private statusAndLabel(entry: AccessEntry): Uint8Array {
    const last = this.statusOf;
    if (last === undefined || last.status !== entry.status || last.httpStatus !== entry.httpStatus) {
      const { status, httpStatus } = entry;
      const code = httpStatus !== undefined && Number.isFinite(httpStatus) ? Math.trunc(httpStatus) : 0;
      const http = httpStatus === undefined ? "" : `,"http_status":${Math.max(0, code)}`;
      this.statusBytes = Buffer.from(`${JSON.stringify(status).slice(1)}${http},"latency_ms":`);
      this.statusOf = { status, httpStatus };
    }
    return this.statusBytes;
  }
}

type RepeatedFields = Pick<AccessEntry, "entrypoint" | "api" | "model" | "version" | "signature">;

const jsonMember = (key: string, value: string): string => `"${key}":${JSON.stringify(value)}`;

function copy(target: Buffer, at: number, bytes: Uint8Array): number {
  target.set(bytes, at);
  return at + bytes.length;
}

/**
 * The inside of a JSON string literal for `text`: plain ASCII byte by byte (request ids always
 * are), anything else through JSON.stringify and UTF-8.
 */
function writeJsonText(target: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      const escaped = JSON.stringify(text.slice(i));
      return at + i + target.write(escaped.slice(1, -1), at + i);
    }
    target[at + i] = c;
  }
  return at + text.length;
}

/** A non-negative integer's decimal digits. */
function writeInteger(target: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = digits - 1; i >= 0; i--) {
    target[at + i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** Microseconds as milliseconds to 3 decimals, trailing zeros dropped: what `String(Math.round(us) / 1000)` prints. */
function writeMillis(target: Buffer, at: number, micros: number): number {
  const whole = Math.round(micros);
  const us = Number.isFinite(whole) && whole > 0 ? whole : 0;
  let end = writeInteger(target, at, Math.floor(us / 1000));
  let fraction = us % 1000;
  if (fraction === 0) return end;
  target[end++] = 0x2e; // "."
  for (let scale = 100; fraction > 0; scale /= 10) {
    const digit = Math.floor(fraction / scale);
    target[end++] = 0x30 + digit;
    fraction -= digit * scale;
  }
  return end;
}

/**
 * The access log for `--access_log`: "" = off (undefined), "stdout" / "-" or "stderr", or a file
 * path (appended, its directory created). Lines go into ~256 KiB blocks that a BlockWriter appends
 * asynchronously (a block at least each second), so that a request pays little more than encoding
 * its line; `close()` flushes.
 *
 * @example
 * const access = openAccessLog("/var/log/ts-serving/access.log");
 * access?.write({ requestId: "r1", entrypoint: "REST", api: "Predict", model: "m", version: 1n,
 *   signature: "serving_default", status: "OK", httpStatus: 200 }, 830);
 * await access?.close();
 */
export function openAccessLog(target: string): AccessLog | undefined {
  if (target === "") return undefined;
  const out = new BlockWriter(target === "-" ? "stdout" : target, FLUSH_BYTES + LINE_ROOM);
  const encoder = new AccessLineEncoder();
  let block = out.take();
  let length = 0;
  const flush = () => {
    if (length === 0) return;
    out.write(block, length);
    block = out.take();
    length = 0;
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    write(entry, latencyMicros) {
      const room = encoder.maxBytes(entry);
      if (room > LINE_ROOM) {
        // An unusually long line (a very long model name) goes out on its own.
        flush();
        const line = Buffer.allocUnsafe(room);
        out.write(line, encoder.encode(entry, latencyMicros, Date.now(), line, 0));
        return;
      }
      length = encoder.encode(entry, latencyMicros, Date.now(), block, length);
      if (length >= FLUSH_BYTES) flush();
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        flush();
        await out.close();
      })();
      return closing;
    },
  };
}
