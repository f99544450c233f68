import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, invalidArgument, ServingError } from "../../errors.js";
import {
  type TensorShapeProto,
  TensorShapeProtoSchema,
} from "../../proto/gen/tensorflow/core/framework/tensor_shape_pb.js";
import { TensorSliceProtoSchema } from "../../proto/gen/tensorflow/core/framework/tensor_slice_pb.js";
import { VersionDefSchema } from "../../proto/gen/tensorflow/core/framework/versions_pb.js";
import {
  type BundleEntryProto,
  BundleEntryProtoSchema,
  BundleHeaderProto_Endianness,
  BundleHeaderProtoSchema,
} from "../../proto/gen/tensorflow/core/protobuf/tensor_bundle_pb.js";
import { DataType, dtypeName, fixedDType } from "../../tensor/dtype.js";
import { Tensor, tensorToBytes } from "../../tensor/tensor.js";
import { crc32c, maskCrc } from "../crc32c.js";
import { compareBytes } from "../table/format.js";
import { TableWriter, type TableWriterOptions } from "../table/table-writer.js";
import { BufferedWriter } from "./buffered-writer.js";
import { swapBytes } from "./byte-swap.js";
import { dataFilename, indexFilename } from "./naming.js";
import { encodeTensorNameSlice } from "./ordered-code.js";
import type { PartitionedTensor } from "./partitioned.js";
import { encodeStringHeader, stringTensorSize } from "./string-codec.js";

/** The bundle format version written (TF's kTensorBundleVersion). */
const BUNDLE_VERSION = 1;

export interface WriteBundleOptions {
  /** Start a new shard rather than let one grow past this many bytes (a bigger tensor gets a shard alone). */
  maxShardBytes?: number;
  /** Split the data into exactly this many shards of about equal size. */
  numShards?: number;
  /**
   * Order of tensors in the data shards: "sorted" by key (default), or "given", the
   * iteration order, as TF writes them (the order of the save op's tensor list).
   */
  dataOrder?: "sorted" | "given";
  /** Byte order of the tensors; "big" writes what TF writes on a big-endian host. */
  endianness?: "little" | "big";
  /** Layout of the index table; TF's defaults (256 KiB Snappy blocks) otherwise. */
  table?: TableWriterOptions;
}

/** One entry that owns bytes in a shard: a whole tensor or one slice of a partitioned one. */
interface DataRecord {
  readonly indexKey: Uint8Array;
  readonly tensor: Tensor;
  readonly size: number;
  shard: number;
}

/**
 * Writes tensors as a TensorBundle: `<prefix>.index` and `<prefix>.data-NNNNN-of-MMMMM`,
 * byte for byte as TF's BundleWriter (header under the empty key, one BundleEntryProto per
 * key with dtype, shape, shard, offset, size and masked crc32c, tensors packed with no
 * padding). Data streams from the tensors' memory to the files; files are written under
 * temporary names and renamed into place, the index last.
 *
 * @example
 * await writeBundle("/models/m/1/variables/variables", new Map([
 *   ["a/.ATTRIBUTES/VARIABLE_VALUE", new Tensor(DataType.DT_FLOAT, [], new Float32Array([0.5]))],
 * ]));
 */
export async function writeBundle(
  prefix: string,
  tensors: Iterable<[string, Tensor | PartitionedTensor]>,
  options: WriteBundleOptions = {},
): Promise<void> {
  const { records, partitionedEntries } = collect(tensors);
  if (options.dataOrder !== "given") records.sort((a, b) => compareBytes(a.indexKey, b.indexKey));
  const numShards = assignShards(records, options);
  const littleEndian = options.endianness !== "big";

  const entries: [Uint8Array, BundleEntryProto][] = [...partitionedEntries];
  const temporaries: [string, string][] = [];
  const temporary = (path: string): string => {
    const temp = `${path}.tempstate${randomBytes(8).toString("hex")}`;
    temporaries.push([temp, path]);
    return temp;
  };
  try {
    await mkdir(dirname(prefix), { recursive: true });
    for (let shard = 0; shard < numShards; shard++) {
      const path = dataFilename(prefix, shard, numShards);
      const shardRecords = records.filter((r) => r.shard === shard);
      entries.push(...(await writeShard(temporary(path), path, shard, shardRecords, littleEndian)));
    }
    entries.sort(([a], [b]) => compareBytes(a, b));
    const table = new TableWriter(options.table);
    const header = create(BundleHeaderProtoSchema, {
      numShards,
      endianness: littleEndian ? BundleHeaderProto_Endianness.LITTLE : BundleHeaderProto_Endianness.BIG,
      version: create(VersionDefSchema, { producer: BUNDLE_VERSION }),
    });
    table.add(new Uint8Array(0), toBinary(BundleHeaderProtoSchema, header));
    for (const [key, entry] of entries) table.add(key, toBinary(BundleEntryProtoSchema, entry));
    const indexPath = indexFilename(prefix);
    await writeFile(temporary(indexPath), table.finish()).catch((e: unknown) => {
      throw writeError(indexPath, e);
    });
    // The index goes last: a reader never sees it before the shards it points into.
    for (const [temp, path] of temporaries) await rename(temp, path);
  } catch (error) {
    await Promise.all(temporaries.map(([temp]) => rm(temp, { force: true })));
    throw error instanceof ServingError ? error : writeError(prefix, error);
  }
}

function collect(tensors: Iterable<[string, Tensor | PartitionedTensor]>): {
  records: DataRecord[];
  partitionedEntries: [Uint8Array, BundleEntryProto][];
} {
  const encoder = new TextEncoder();
  const records: DataRecord[] = [];
  const partitionedEntries: [Uint8Array, BundleEntryProto][] = [];
  const seen = new Set<string>();
  const claim = (indexKey: Uint8Array, name: string): void => {
    const id = Buffer.from(indexKey).toString("latin1");
    if (seen.has(id)) throw invalidArgument(`duplicate bundle key "${name}"`);
    seen.add(id);
  };
  const record = (indexKey: Uint8Array, tensor: Tensor): DataRecord => {
    const info = fixedDType(tensor.dtype);
    if (!info && tensor.dtype !== DataType.DT_STRING) {
      throw invalidArgument(`cannot write a ${dtypeName(tensor.dtype)} tensor to a bundle`);
    }
    const size = info ? tensor.size * info.byteSize : stringTensorSize(tensor.strings);
    return { indexKey, tensor, size, shard: 0 };
  };
  for (const [key, value] of tensors) {
    if (key === "") throw invalidArgument("the empty key is reserved for the bundle header");
    const keyBytes = encoder.encode(key);
    claim(keyBytes, key);
    if (value instanceof Tensor) {
      records.push(record(keyBytes, value));
      continue;
    }
    const whole = value.parts.length === 1 && value.parts[0]!.tensor.shape.join() === value.shape.join();
    if (whole) {
      // Like TF's BundleWriter::AddSlice: a single slice covering everything is stored as a plain tensor.
      records.push(record(keyBytes, value.parts[0]!.tensor));
      continue;
    }
    const entry = create(BundleEntryProtoSchema, { dtype: value.dtype, shape: shapeProto(value.shape) });
    for (const part of value.parts) {
      const extents = part.start.map((start, d) => ({ start, length: part.tensor.shape[d]! }));
      const extent = extents.map((e) => ({
        start: BigInt(e.start),
        hasLength: { case: "length" as const, value: BigInt(e.length) },
      }));
      entry.slices.push(create(TensorSliceProtoSchema, { extent }));
      const sliceKey = encodeTensorNameSlice(keyBytes, extents);
      claim(sliceKey, `${key} [${extents.map((e) => `${e.start},${e.length}`).join(":")}]`);
      records.push(record(sliceKey, part.tensor));
    }
    partitionedEntries.push([keyBytes, entry]);
  }
  return { records, partitionedEntries };
}

/** Sets each record's shard; returns the number of shards. */
function assignShards(records: DataRecord[], options: WriteBundleOptions): number {
  const { numShards, maxShardBytes } = options;
  if (numShards !== undefined && maxShardBytes !== undefined) {
    throw invalidArgument("give numShards or maxShardBytes, not both");
  }
  if (numShards !== undefined) {
    if (!Number.isInteger(numShards) || numShards < 1 || numShards > 99999) {
      throw invalidArgument(`numShards must be an integer in [1, 99999], got ${numShards}`);
    }
    const total = records.reduce((sum, r) => sum + r.size, 0);
    let before = 0;
    for (const r of records) {
      // A record goes to the shard its first byte falls in, were the data cut into equal parts.
      r.shard = total === 0 ? 0 : Math.min(numShards - 1, Math.floor((before * numShards) / total));
      before += r.size;
    }
    return numShards;
  }
  if (maxShardBytes === undefined) return 1;
  if (!(maxShardBytes > 0)) throw invalidArgument(`maxShardBytes must be positive, got ${maxShardBytes}`);
  let shard = 0;
  let used = 0;
  for (const r of records) {
    if (used > 0 && used + r.size > maxShardBytes) {
      shard++;
      used = 0;
    }
    r.shard = shard;
    used += r.size;
  }
  if (shard >= 99999) throw invalidArgument(`maxShardBytes ${maxShardBytes} makes too many shards`);
  return shard + 1;
}

async function writeShard(
  tempPath: string,
  path: string,
  shard: number,
  records: readonly DataRecord[],
  littleEndian: boolean,
): Promise<[Uint8Array, BundleEntryProto][]> {
  const entries: [Uint8Array, BundleEntryProto][] = [];
  const handle = await open(tempPath, "w").catch((e: unknown) => {
    throw writeError(path, e);
  });
  try {
    const out = new BufferedWriter(handle);
    for (const { indexKey, tensor, size } of records) {
      const offset = out.position;
      const crc = await writeTensor(out, tensor, littleEndian);
      const entry = create(BundleEntryProtoSchema, {
        dtype: tensor.dtype,
        shape: shapeProto(tensor.shape),
        shardId: shard,
        offset: BigInt(offset),
        size: BigInt(size),
        crc32c: maskCrc(crc),
      });
      entries.push([indexKey, entry]);
    }
    await out.flush();
  } catch (error) {
    throw error instanceof ServingError ? error : writeError(path, error);
  } finally {
    await handle.close();
  }
  return entries;
}

/** Appends one tensor's stored bytes; returns their (unmasked) crc32c as TF computes it. */
async function writeTensor(out: BufferedWriter, tensor: Tensor, littleEndian: boolean): Promise<number> {
  if (tensor.dtype === DataType.DT_STRING) {
    const { header, crc: headerCrc } = encodeStringHeader(tensor.strings, littleEndian);
    let crc = headerCrc;
    await out.write(header);
    for (const s of tensor.strings) {
      await out.write(s);
      crc = crc32c(s, crc);
    }
    return crc;
  }
  const raw = tensorToBytes(tensor);
  const bytes = littleEndian ? raw : swapBytes(raw, fixedDType(tensor.dtype)!);
  const crc = crc32c(bytes);
  await out.write(bytes);
  return crc;
}

const shapeProto = (shape: readonly number[]): TensorShapeProto =>
  create(TensorShapeProtoSchema, { dim: shape.map((size) => ({ size: BigInt(size) })) });

function writeError(path: string, error: unknown): ServingError {
  const message = error instanceof Error ? error.message : String(error);
  return new ServingError(Code.UNKNOWN, `${path}: cannot write: ${message}`, { cause: error });
}
