import { fromBinary } from "@bufbuild/protobuf";
import { dataLoss, failedPrecondition, notFound, unimplemented } from "../../errors.js";
import type { TensorShapeProto } from "../../proto/gen/tensorflow/core/framework/tensor_shape_pb.js";
import {
  type BundleEntryProto,
  BundleEntryProtoSchema,
  type BundleHeaderProto,
  BundleHeaderProto_Endianness,
  BundleHeaderProtoSchema,
} from "../../proto/gen/tensorflow/core/protobuf/tensor_bundle_pb.js";
import { DataType, dtypeName, fixedDType } from "../../tensor/dtype.js";
import { numElements, Tensor, tensorFromBytes } from "../../tensor/tensor.js";
import { crc32c, crcHex, maskCrc, unmaskCrc } from "../crc32c.js";
import { FormatError } from "../table/format.js";
import { TableReader } from "../table/table-reader.js";
import { swapBytes } from "./byte-swap.js";
import { dataFilename, indexFilename } from "./naming.js";
import { decodeTensorNameSlice, encodeTensorNameSlice } from "./ordered-code.js";
import { ShardFile } from "./shard-file.js";
import {
  checkSlicesCoverShape,
  copySliceInto,
  type ResolvedSlice,
  resolveSlice,
  sliceSpec,
} from "./slices.js";
import { decodeStrings } from "./string-codec.js";

/** The bundle format version this reader implements (TF's kTensorBundleVersion). */
const READER_VERSION = 1;

// Keys are bytes; they are held as latin1 strings (one char per byte) so Map lookups and sorting are bytewise.
const toBinaryKey = (key: string): string => Buffer.from(key, "utf8").toString("latin1");
const fromBinaryKey = (key: string): string => Buffer.from(key, "latin1").toString("utf8");
/** Slice entries of partitioned tensors have OrderedCode keys, which start with a 0 byte. */
const isSliceKey = (key: string): boolean => key.charCodeAt(0) === 0;

/**
 * Reads a TensorFlow TensorBundle (a SavedModel's `variables/`), verifying every
 * checksum TF stores: the index table's blocks, and each tensor's crc32c.
 * Shards are read with positional reads through file handles kept open until close().
 *
 * Errors are ServingErrors whose one-line message names the file and what is wrong:
 * DATA_LOSS for damaged or truncated files, NOT_FOUND for a missing index or shard
 * file (as TF reports them) or an unknown key, UNIMPLEMENTED for dtypes it cannot decode.
 *
 * @example
 * const reader = await BundleReader.open("/models/half_plus_two/1/variables/variables");
 * try {
 *   const a = await reader.read("a/.ATTRIBUTES/VARIABLE_VALUE"); // Tensor(DT_FLOAT, [], [0.5])
 *   const all = await reader.readAll();
 * } finally {
 *   await reader.close();
 * }
 */
export class BundleReader {
  private readonly shards = new Map<number, Promise<ShardFile>>();
  private closed = false;

  private constructor(
    /** The bundle prefix, e.g. `<export>/variables/variables`. */
    readonly prefix: string,
    /** The header entry: shard count, endianness, format version. */
    readonly header: BundleHeaderProto,
    private readonly entries: ReadonlyMap<string, BundleEntryProto>,
    private readonly indexPath: string,
  ) {}

  /** Opens `<prefix>.index`, checks every block and the header, and parses every entry. */
  static async open(prefix: string): Promise<BundleReader> {
    const indexPath = indexFilename(prefix);
    const table = await TableReader.open(indexPath);
    const entries = new Map<string, BundleEntryProto>();
    let header: BundleHeaderProto | undefined;
    for (const [keyBytes, value] of table.entries()) {
      const key = Buffer.from(keyBytes).toString("latin1");
      if (header === undefined) {
        if (key !== "") throw dataLoss(`${indexPath}: no header entry (first key is "${displayKey(key)}")`);
        header = parseProto(indexPath, "header", () => fromBinary(BundleHeaderProtoSchema, value));
        continue;
      }
      entries.set(
        key,
        parseProto(indexPath, `entry "${displayKey(key)}"`, () => fromBinary(BundleEntryProtoSchema, value)),
      );
    }
    if (header === undefined) throw dataLoss(`${indexPath}: no header entry (empty table)`);
    checkHeader(indexPath, header, entries.size);
    return new BundleReader(prefix, header, entries, indexPath);
  }

  /** Tensor keys in byte order (the slices of partitioned tensors are not listed apart). */
  keys(): string[] {
    return [...this.entries.keys()].filter((k) => !isSliceKey(k)).map(fromBinaryKey);
  }

  has(key: string): boolean {
    return this.entries.has(toBinaryKey(key));
  }

  /** The index entry of a key (dtype, shape, shard, offset, size, crc32c or slices); NOT_FOUND if absent. */
  entry(key: string): BundleEntryProto {
    const entry = this.entries.get(toBinaryKey(key));
    if (!entry) throw notFound(`${this.indexPath}: key "${key}" not found in bundle`);
    return entry;
  }

  /** Reads one tensor, verifying its checksum; a partitioned tensor is assembled from its slices. */
  async read(key: string): Promise<Tensor> {
    if (this.closed) throw failedPrecondition(`${this.indexPath}: bundle reader is closed`);
    const entry = this.entry(key);
    return entry.slices.length > 0 ? this.readPartitioned(key, entry) : this.readStored(`"${key}"`, entry);
  }

  /** Reads every tensor (a few at a time, so checksumming overlaps reading), in key order. */
  async readAll(options: { concurrency?: number } = {}): Promise<Map<string, Tensor>> {
    const keys = this.keys();
    const tensors = new Array<Tensor>(keys.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < keys.length && !failed) {
        const i = next++;
        try {
          tensors[i] = await this.read(keys[i]!);
        } catch (error) {
          failed = true; // the first error is the answer; start no further reads
          throw error;
        }
      }
    };
    const workers = Math.max(1, Math.min(options.concurrency ?? 4, keys.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return new Map(keys.map((key, i) => [key, tensors[i]!]));
  }

  /** Closes the shard files; the reader cannot read afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const shards = [...this.shards.values()];
    this.shards.clear();
    for (const shard of shards) {
      await shard.then((s) => s.close()).catch(() => undefined);
    }
  }

  private get littleEndian(): boolean {
    return this.header.endianness === BundleHeaderProto_Endianness.LITTLE;
  }

  private shard(id: number, what: string): Promise<ShardFile> {
    if (!Number.isInteger(id) || id < 0 || id >= this.header.numShards) {
      throw dataLoss(
        `${this.indexPath}: ${what}: shard_id ${id} out of range (num_shards ${this.header.numShards})`,
      );
    }
    let shard = this.shards.get(id);
    if (!shard) {
      shard = ShardFile.open(dataFilename(this.prefix, id, this.header.numShards));
      shard.catch(() => undefined); // reported to whoever awaits it
      this.shards.set(id, shard);
    }
    return shard;
  }

  /** Reads an entry that holds its own bytes (a whole tensor or one slice); `what` is its quoted name. */
  private async readStored(what: string, entry: BundleEntryProto): Promise<Tensor> {
    const entryName = `entry ${what}`;
    const shape = entryShape(this.indexPath, entryName, entry.shape);
    const offset = safeNumber(this.indexPath, entryName, "offset", entry.offset);
    const size = safeNumber(this.indexPath, entryName, "size", entry.size);
    const count = numElements(shape);
    const info = fixedDType(entry.dtype);
    if (!info && entry.dtype !== DataType.DT_STRING) {
      throw unimplemented(`${this.indexPath}: ${entryName}: dtype ${dtypeName(entry.dtype)} cannot be read`);
    }
    // Each string needs at least its 1-byte length (TF checks the same lower bound).
    if (!info && size < count) {
      throw dataLoss(`${this.indexPath}: ${entryName}: size ${size} is too small for ${count} strings`);
    }
    if (info && size !== count * info.byteSize) {
      throw dataLoss(
        `${this.indexPath}: ${entryName}: size ${size} does not match ${dtypeName(entry.dtype)} shape [${shape}] (${count * info.byteSize} bytes)`,
      );
    }
    const shard = await this.shard(entry.shardId, entryName);
    const where = `${shard.path}: ${entryName} at offset ${offset} (${size} bytes)`;
    let crc = 0;
    const bytes = await shard.read(
      offset,
      size,
      entryName,
      info ? (chunk) => (crc = crc32c(chunk, crc)) : undefined,
    );
    let tensor: Tensor;
    if (info) {
      tensor = tensorFromBytes(entry.dtype, shape, this.littleEndian ? bytes : swapBytes(bytes, info));
    } else {
      try {
        const decoded = decodeStrings(bytes, count, this.littleEndian);
        crc = decoded.crc;
        tensor = new Tensor(DataType.DT_STRING, shape, decoded.strings);
      } catch (error) {
        if (!(error instanceof FormatError)) throw error;
        throw dataLoss(`${where}: bad string tensor: ${error.message}`);
      }
    }
    if (crc !== unmaskCrc(entry.crc32c)) {
      throw dataLoss(
        `${where}: checksum mismatch (stored ${crcHex(entry.crc32c)}, computed ${crcHex(maskCrc(crc))})`,
      );
    }
    return tensor;
  }

  /** Assembles a partitioned tensor from the slice entries its `slices` name. */
  private async readPartitioned(key: string, entry: BundleEntryProto): Promise<Tensor> {
    const what = `partitioned tensor "${key}"`;
    const shape = entryShape(this.indexPath, what, entry.shape);
    const info = fixedDType(entry.dtype);
    if (shape.length === 0) throw dataLoss(`${this.indexPath}: ${what}: a scalar cannot be partitioned`);
    if (!info && entry.dtype !== DataType.DT_STRING) {
      throw unimplemented(`${this.indexPath}: ${what}: dtype ${dtypeName(entry.dtype)} cannot be read`);
    }
    let slices: ResolvedSlice[];
    try {
      slices = entry.slices.map((proto) => resolveSlice(proto, shape));
      checkSlicesCoverShape(slices, shape);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      throw dataLoss(`${this.indexPath}: ${what}: ${error.message}`);
    }
    // Find and check every slice entry before allocating the full tensor.
    const parts = slices.map((slice) => {
      const name = `"${key}" [${sliceSpec(slice.extents)}]`;
      const sliceKey = encodeTensorNameSlice(Buffer.from(key, "utf8"), slice.extents);
      const sliceEntry = this.entries.get(Buffer.from(sliceKey).toString("latin1"));
      if (!sliceEntry) throw dataLoss(`${this.indexPath}: ${what}: no entry for slice ${name}`);
      const sliceShape = entryShape(this.indexPath, `slice ${name}`, sliceEntry.shape);
      if (sliceEntry.dtype !== entry.dtype || sliceShape.join() !== slice.lengths.join()) {
        throw dataLoss(
          `${this.indexPath}: slice ${name} is ${dtypeName(sliceEntry.dtype)} [${sliceShape}], expected ${dtypeName(entry.dtype)} [${slice.lengths}]`,
        );
      }
      return { slice, name, sliceEntry };
    });
    const count = numElements(shape);
    const full = info ? new Uint8Array(count * info.byteSize) : new Array<Uint8Array>(count);
    for (const { slice, name, sliceEntry } of parts) {
      const part = await this.readStored(name, sliceEntry);
      if (Array.isArray(full)) copySliceInto(full, shape, slice, part.strings, 1);
      else copySliceInto(full, shape, slice, bytesOf(part), info!.byteSize);
    }
    return Array.isArray(full)
      ? new Tensor(entry.dtype, shape, full)
      : tensorFromBytes(entry.dtype, shape, full);
  }
}

function bytesOf(tensor: Tensor): Uint8Array {
  const values = tensor.values;
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A key for messages: the name, or `name [spec]` for a slice entry. */
function displayKey(key: string): string {
  if (!isSliceKey(key)) return fromBinaryKey(key);
  const decoded = decodeTensorNameSlice(Buffer.from(key, "latin1"));
  return decoded
    ? `${Buffer.from(decoded.name).toString("utf8")} [${sliceSpec(decoded.extents)}]`
    : JSON.stringify(key);
}

function parseProto<T>(indexPath: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw dataLoss(`${indexPath}: ${what} is not a parseable proto: ${reason}`);
  }
}

function checkHeader(indexPath: string, header: BundleHeaderProto, entryCount: number): void {
  if (header.numShards < 0 || (header.numShards === 0 && entryCount > 0)) {
    throw dataLoss(`${indexPath}: header: bad num_shards ${header.numShards}`);
  }
  if (!(header.endianness in BundleHeaderProto_Endianness)) {
    throw dataLoss(`${indexPath}: header: unknown endianness ${header.endianness}`);
  }
  const version = header.version;
  if (version && version.minConsumer > READER_VERSION) {
    throw failedPrecondition(
      `${indexPath}: bundle format needs a reader of version ${version.minConsumer}; this one is ${READER_VERSION}`,
    );
  }
  if (version?.badConsumers.includes(READER_VERSION)) {
    throw failedPrecondition(`${indexPath}: bundle format disallows readers of version ${READER_VERSION}`);
  }
}

function entryShape(indexPath: string, what: string, proto: TensorShapeProto | undefined): number[] {
  const dims = proto?.dim.map((d) => Number(d.size)) ?? [];
  if (proto?.unknownRank || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw dataLoss(`${indexPath}: ${what}: invalid shape [${dims}]`);
  }
  return dims;
}

function safeNumber(indexPath: string, what: string, field: string, value: bigint): number {
  const n = Number(value);
  if (value < 0n || !Number.isSafeInteger(n)) throw dataLoss(`${indexPath}: ${what}: bad ${field} ${value}`);
  return n;
}

/**
 * Reads every tensor of the bundle at `prefix`, verifying every checksum, and closes it.
 *
 * @example
 * const variables = await readBundle("/models/m/1/variables/variables");
 */
export async function readBundle(prefix: string): Promise<Map<string, Tensor>> {
  const reader = await BundleReader.open(prefix);
  try {
    return await reader.readAll();
  } finally {
    await reader.close();
  }
}
