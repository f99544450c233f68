import { invalidArgument } from "../errors.js";
import { DataType, dtypeName, fixedDType, type NumericArray, requireFixedDType } from "./dtype.js";

/** Values of a tensor: a typed array for fixed-size dtypes, one byte array per element for DT_STRING. */
export type TensorData = NumericArray | Uint8Array[];

/** Number of elements of a shape (1 for a scalar). */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A dense tensor: dtype, shape and row-major values.
 *
 * Storage per dtype: float32 → Float32Array, int64 → BigInt64Array (exact), bool → Uint8Array of 0/1,
 * half/bfloat16 → Uint16Array of bit patterns, complex → interleaved (re, im), string → Uint8Array[].
 *
 * @example
 * const x = new Tensor(DataType.DT_FLOAT, [2, 1], new Float32Array([1, 2]));
 */
export class Tensor {
  constructor(
    readonly dtype: DataType,
    readonly shape: readonly number[],
    readonly data: TensorData,
  ) {
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0)
        throw invalidArgument(`invalid dimension ${d} in shape [${shape}]`);
    }
    const expected = numElements(shape);
    if (dtype === DataType.DT_STRING) {
      if (!Array.isArray(data)) throw invalidArgument("a DT_STRING tensor holds an array of byte arrays");
      if (data.length !== expected) {
        throw invalidArgument(
          `DT_STRING tensor of shape [${shape}] needs ${expected} values, got ${data.length}`,
        );
      }
      return;
    }
    const info = requireFixedDType(dtype);
    if (Array.isArray(data) || !(data instanceof info.array)) {
      throw invalidArgument(`${dtypeName(dtype)} values must be a ${info.array.name}`);
    }
    if (data.length !== expected * info.lanes) {
      throw invalidArgument(
        `${dtypeName(dtype)} tensor of shape [${shape}] needs ${expected * info.lanes} values, got ${data.length}`,
      );
    }
  }

  get size(): number {
    return numElements(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The values of a DT_STRING tensor. */
  get strings(): Uint8Array[] {
    if (!Array.isArray(this.data)) throw invalidArgument(`${dtypeName(this.dtype)} tensor is not DT_STRING`);
    return this.data;
  }

  /** The values of a fixed-size tensor. */
  get values(): NumericArray {
    if (Array.isArray(this.data)) throw invalidArgument("DT_STRING tensor has no numeric values");
    return this.data;
  }

  /** A zero-filled (or empty-string) tensor. */
  static zeros(dtype: DataType, shape: readonly number[]): Tensor {
    const n = numElements(shape);
    if (dtype === DataType.DT_STRING)
      return new Tensor(
        dtype,
        shape,
        Array.from({ length: n }, () => new Uint8Array(0)),
      );
    const info = requireFixedDType(dtype);
    return new Tensor(dtype, shape, new info.array(n * info.lanes));
  }

  /** A DT_STRING tensor from JS strings (UTF-8 encoded). */
  static fromStrings(shape: readonly number[], values: readonly string[]): Tensor {
    const encoder = new TextEncoder();
    return new Tensor(
      DataType.DT_STRING,
      shape,
      values.map((s) => encoder.encode(s)),
    );
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Builds a fixed-size tensor from raw little-endian row-major bytes (tensor_content, a bundle shard).
 * The bytes are viewed in place when aligned, else copied once.
 */
export function tensorFromBytes(dtype: DataType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const info = fixedDType(dtype);
  if (!info) throw invalidArgument(`cannot read ${dtypeName(dtype)} from raw bytes`);
  const expected = numElements(shape) * info.byteSize;
  if (bytes.byteLength !== expected) {
    throw invalidArgument(
      `${dtypeName(dtype)} tensor of shape [${shape}] needs ${expected} bytes, got ${bytes.byteLength}`,
    );
  }
  if (!LITTLE_ENDIAN) throw invalidArgument("big-endian hosts are not supported");
  const elementBytes = info.array.BYTES_PER_ELEMENT;
  // Copy when misaligned: Uint8Array.from copies even for a Node Buffer, whose slice() would not.
  const aligned = bytes.byteOffset % elementBytes === 0 ? bytes : Uint8Array.from(bytes);
  const data = new info.array(
    aligned.buffer as ArrayBuffer,
    aligned.byteOffset,
    aligned.byteLength / elementBytes,
  );
  return new Tensor(info.dtype, shape, data);
}

/** The raw little-endian bytes of a fixed-size tensor, viewing the tensor's own memory. */
export function tensorToBytes(tensor: Tensor): Uint8Array {
  const values = tensor.values;
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
