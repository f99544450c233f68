import type { IncomingMessage } from "node:http";

/**
 * A request header's first value, read from `rawHeaders`. `req.headers` builds an object of every
 * header on first use: a per-request cost the predict path avoids where it needs one or two headers.
 *
 * @example
 * rawHeader(req, "content-encoding"); // "gzip" or undefined
 */
export function rawHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (sameName(raw[i] ?? "", lowerCaseName)) return raw[i + 1];
  }
  return undefined;
}

/** ASCII case-insensitive equality with a lower-case name, without allocating a lower-cased copy. */
function sameName(name: string, lowerCaseName: string): boolean {
  if (name.length !== lowerCaseName.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Upper-case ASCII letters (65–90) compare as their lower-case forms (+32).
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lowerCaseName.charCodeAt(i)) return false;
  }
  return true;
}
