// 16-bit float conversions for DT_HALF (IEEE binary16) and DT_BFLOAT16, whose tensors store bit patterns.

/** Layout of a small binary float: exponent and mantissa widths, and its canonical quiet NaN. */
interface SmallFloat {
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly quietNaN: number;
}

const HALF: SmallFloat = { exponentBits: 5, mantissaBits: 10, quietNaN: 0x7e00 };
const BFLOAT16: SmallFloat = { exponentBits: 8, mantissaBits: 7, quietNaN: 0x7fc0 };

// Scratch views to read a double's exponent exactly (Math.log2 can be off by one near powers of two).
const scratchFloat64 = new Float64Array(1);
const scratchUint32 = new Uint32Array(scratchFloat64.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The unbiased binary exponent of a finite, non-zero double (−1023 for double subnormals, all far below range). */
function exponentOf(x: number): number {
  scratchFloat64[0] = x;
  return ((scratchUint32[HIGH_WORD]! >>> 20) & 0x7ff) - 1023;
}

/** Rounds a JS number to the nearest value of the format, ties to even, and returns its bit pattern. */
function encode(format: SmallFloat, x: number): number {
  const { exponentBits, mantissaBits } = format;
  const signBit = 1 << (exponentBits + mantissaBits);
  const infinity = ((1 << exponentBits) - 1) << mantissaBits;
  if (Number.isNaN(x)) return format.quietNaN;
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const magnitude = Math.abs(x);
  if (magnitude === 0) return sign;
  const maxExponent = (1 << (exponentBits - 1)) - 1;
  const minNormalExponent = 1 - maxExponent;
  const exponent = Math.max(exponentOf(magnitude), minNormalExponent);
  if (exponent > maxExponent) return sign | infinity;
  // Scaling by a power of two is exact, so `scaled` holds the significand with its fraction bits below 1.
  const scaled = magnitude * 2 ** (mantissaBits - exponent);
  let significand = Math.floor(scaled);
  const fraction = scaled - significand;
  if (fraction > 0.5 || (fraction === 0.5 && significand % 2 === 1)) significand += 1;
  // A subnormal has significand < 2^mantissaBits and biased exponent 0; rounding up carries into the exponent.
  const bits = ((exponent - minNormalExponent) << mantissaBits) + significand;
  return sign | Math.min(bits, infinity);
}

/** The value of a bit pattern of the format, exactly. */
function decode(format: SmallFloat, bits: number): number {
  const { exponentBits, mantissaBits } = format;
  const sign = bits & (1 << (exponentBits + mantissaBits)) ? -1 : 1;
  const biasedExponent = (bits >>> mantissaBits) & ((1 << exponentBits) - 1);
  const mantissa = bits & ((1 << mantissaBits) - 1);
  const maxExponent = (1 << (exponentBits - 1)) - 1;
  if (biasedExponent === (1 << exponentBits) - 1) return mantissa === 0 ? sign * Infinity : Number.NaN;
  if (biasedExponent === 0) return sign * mantissa * 2 ** (1 - maxExponent - mantissaBits);
  return sign * (mantissa + (1 << mantissaBits)) * 2 ** (biasedExponent - maxExponent - mantissaBits);
}

/**
 * The value of an IEEE binary16 bit pattern (as DT_HALF tensors and half_val store it).
 *
 * @example
 * halfToFloat(0x3c00); // 1
 * halfToFloat(0x7c00); // Infinity
 */
export function halfToFloat(bits: number): number {
  return decode(HALF, bits);
}

/**
 * The binary16 bit pattern nearest to `x` (round to nearest, ties to even; overflow → ±Infinity,
 * tiny values → subnormals or ±0, NaN → 0x7e00). Rounds the double directly, without a float32 step.
 *
 * @example
 * floatToHalf(1); // 0x3c00
 * floatToHalf(65520); // 0x7c00 (Infinity: halfway above the largest half, 65504, rounds to even)
 */
export function floatToHalf(x: number): number {
  return encode(HALF, x);
}

/**
 * The value of a bfloat16 bit pattern (the top 16 bits of a float32).
 *
 * @example
 * bfloat16ToFloat(0x3f80); // 1
 */
export function bfloat16ToFloat(bits: number): number {
  return decode(BFLOAT16, bits);
}

/**
 * The bfloat16 bit pattern nearest to `x` (round to nearest, ties to even; NaN → 0x7fc0).
 *
 * @example
 * floatToBfloat16(1); // 0x3f80
 * floatToBfloat16(1 + 2 ** -8); // 0x3f80 (tie rounds to even)
 */
export function floatToBfloat16(x: number): number {
  return encode(BFLOAT16, x);
}
