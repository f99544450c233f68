/** Which version a REST path names: the latest, a number, or a label. */
export type VersionSelector =
  | { readonly kind: "latest" }
  | { readonly kind: "version"; readonly version: bigint }
  | { readonly kind: "label"; readonly label: string };

/** A parsed `/v1/models/...` request, or the reason it is not one. */
export type RestRoute =
  | {
      readonly kind: "inference";
      readonly verb: "predict" | "classify" | "regress";
      readonly model: string;
      readonly selector: VersionSelector;
    }
  | { readonly kind: "status"; readonly model: string; readonly selector: VersionSelector }
  | { readonly kind: "metadata"; readonly model: string; readonly selector: VersionSelector }
  /** TF Serving answers 400 with this message (`Malformed request: POST /v1/...`). */
  | { readonly kind: "malformed"; readonly message: string }
  /** 400 with an empty body: a version number that overflows int64, or a URL-decode failure. */
  | { readonly kind: "bad-encoding" };

const INFERENCE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:([^/:]+)$/i;
const STATUS = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Matches TF Serving's REST routes exactly as its handler does: case-insensitive path patterns, but
 * case-sensitive verbs (`:PREDICT` is malformed) and subresource (`/METADATA` is a status request);
 * the model name and label are URL-decoded after matching; a query string is part of the path (and so
 * makes POST routes malformed).
 *
 * @example
 * matchRoute("POST", "/v1/models/half_plus_two/versions/123:predict");
 * // { kind: "inference", verb: "predict", model: "half_plus_two", selector: { kind: "version", version: 123n } }
 */
export function matchRoute(method: string, path: string): RestRoute {
  const malformed = { kind: "malformed", message: `Malformed request: ${method} ${path}` } as const;
  if (method === "POST") {
    const m = INFERENCE.exec(path);
    if (!m) return malformed;
    const verb = m[4];
    if (verb !== "predict" && verb !== "classify" && verb !== "regress") return malformed;
    const parts = decodeParts(m[1], m[2], m[3]);
    if (!parts) return { kind: "bad-encoding" };
    return { kind: "inference", verb, ...parts };
  }
  if (method === "GET") {
    if (/^\/v1\/models$/i.test(path)) return { kind: "malformed", message: "Missing model name in request." };
    const m = STATUS.exec(path);
    if (!m) return malformed;
    const parts = decodeParts(m[1], m[2], m[3]);
    if (!parts) return { kind: "bad-encoding" };
    return m[4] === "metadata" ? { kind: "metadata", ...parts } : { kind: "status", ...parts };
  }
  return malformed;
}

/** Parsed routes by path, per method: clients send the same few paths over and over. */
const routeCache = { POST: new Map<string, RestRoute>(), GET: new Map<string, RestRoute>() };
/** Bounds the cache against clients that send endless distinct paths. */
const MAX_CACHED_ROUTES = 1024;

/**
 * `matchRoute`, remembered per method and path (routes are immutable, so one object serves every
 * request for its path).
 */
export function cachedRoute(method: string, path: string): RestRoute {
  const cache = method === "POST" ? routeCache.POST : method === "GET" ? routeCache.GET : undefined;
  if (cache === undefined) return matchRoute(method, path);
  let route = cache.get(path);
  if (route === undefined) {
    route = matchRoute(method, path);
    if (cache.size >= MAX_CACHED_ROUTES) cache.clear();
    cache.set(path, route);
  }
  return route;
}

function decodeParts(
  rawModel: string | undefined,
  rawVersion: string | undefined,
  rawLabel: string | undefined,
): { model: string; selector: VersionSelector } | undefined {
  try {
    const model = urlUnescape(rawModel ?? "");
    if (rawVersion !== undefined) {
      const version = BigInt(rawVersion);
      if (version > INT64_MAX) return undefined;
      return { model, selector: { kind: "version", version } };
    }
    if (rawLabel !== undefined)
      return { model, selector: { kind: "label", label: decodeURIComponent(rawLabel) } };
    return { model, selector: { kind: "latest" } };
  } catch {
    return undefined;
  }
}

/**
 * URL-decodes like curl_easy_unescape, which TF Serving uses: valid `%XX` escapes become bytes,
 * invalid ones stay as written; the bytes are read as UTF-8.
 */
function urlUnescape(text: string): string {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      for (const byte of Buffer.from(text[i] ?? "", "utf8")) bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
