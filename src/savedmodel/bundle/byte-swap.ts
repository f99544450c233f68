import type { DTypeInfo } from "../../tensor/dtype.js";

/**
 * Reverses the bytes of every element lane (a complex number swaps its two halves
 * separately), turning a big-endian bundle's tensor bytes into host order or back.
 * Returns a new array; the input (already checksummed as stored) is left as is.
 */
export function swapBytes(bytes: Uint8Array, info: DTypeInfo): Uint8Array {
  const lane = info.byteSize / info.lanes;
  const out = new Uint8Array(bytes.length);
  if (lane === 1) {
    out.set(bytes);
    return out;
  }
  for (let i = 0; i < bytes.length; i += lane) {
    for (let j = 0; j < lane; j++) out[i + j] = bytes[i + lane - 1 - j]!;
  }
  return out;
}
