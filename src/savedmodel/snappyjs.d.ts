// Types for snappyjs (pure-JS Snappy raw format), which ships without declarations.
declare module "snappyjs" {
  /** Decompresses a raw Snappy block; throws on a malformed stream or one longer than maxLength. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  /** Compresses into the raw Snappy format. */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
