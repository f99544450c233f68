// Benchmarks the TensorBundle reader against plain fs reads of the same shard bytes.
// Run: npx tsx bench/bundle.ts  (writes ~210 MB to a temp dir, removes it at the end)
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BundleReader, dataFilename, writeBundle } from "../src/savedmodel/bundle/index.js";
import { DataType } from "../src/tensor/dtype.js";
import { Tensor } from "../src/tensor/tensor.js";

const FLOAT_VARIABLES = 50;
const FLOATS_PER_VARIABLE = 1 << 20; // 4 MB each
const REPETITIONS = Number(process.env.REPETITIONS ?? 7);

function makeTensors(): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (let v = 0; v < FLOAT_VARIABLES; v++) {
    const values = new Float32Array(FLOATS_PER_VARIABLE);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i + v);
    tensors.set(
      `layer_${String(v).padStart(2, "0")}/kernel/.ATTRIBUTES/VARIABLE_VALUE`,
      new Tensor(DataType.DT_FLOAT, [1024, 1024], values),
    );
  }
  const words = Array.from({ length: 20_000 }, (_, i) => `token_${i}_${"x".repeat(i % 90)}`);
  tensors.set("vocabulary/.ATTRIBUTES/VARIABLE_VALUE", Tensor.fromStrings([words.length], words));
  for (let v = 0; v < 200; v++) {
    tensors.set(
      `layer_${v}/bias/.ATTRIBUTES/VARIABLE_VALUE`,
      new Tensor(DataType.DT_FLOAT, [64], new Float32Array(64).fill(v)),
    );
  }
  return tensors;
}

const megabytes = (bytes: number): number => bytes / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// A full GC before each timed run, so no run pays for the garbage of the one before.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  collectGarbage();
  const start = process.hrtime.bigint();
  const result = await run();
  return [result, Number(process.hrtime.bigint() - start) / 1e9];
}

/**
 * Plain fs: one positional read per tensor, the same sizes and offsets the reader uses,
 * each into its own array kept until the end (as the reader keeps every tensor).
 */
async function readPositional(shard: string, ranges: readonly [number, number][]): Promise<Uint8Array[]> {
  const handle = await open(shard, "r");
  const arrays: Uint8Array[] = [];
  try {
    for (const [offset, size] of ranges) {
      const bytes = new Uint8Array(size);
      let pos = 0;
      while (pos < size) pos += (await handle.read(bytes, pos, size - pos, offset + pos)).bytesRead;
      arrays.push(bytes);
    }
  } finally {
    await handle.close();
  }
  return arrays;
}

async function readWithBundleReader(prefix: string): Promise<number> {
  const reader = await BundleReader.open(prefix);
  try {
    const tensors = await reader.readAll();
    return tensors.size;
  } finally {
    await reader.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), "bench-bundle-"));
try {
  const prefix = join(dir, "variables", "variables");
  const tensors = makeTensors();
  const [, writeSeconds] = await timed(() => writeBundle(prefix, tensors));
  const shard = dataFilename(prefix, 0, 1);
  const reader = await BundleReader.open(prefix);
  const ranges = reader
    .keys()
    .map((k): [number, number] => [Number(reader.entry(k).offset), Number(reader.entry(k).size)]);
  await reader.close();
  const shardBytes = ranges.reduce((n, [, size]) => n + size, 0);
  tensors.clear();

  // Warm the page cache for both paths.
  await readFile(shard);
  await readWithBundleReader(prefix);

  const positional: number[] = [];
  const whole: number[] = [];
  const bundle: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) {
    positional.push((await timed(() => readPositional(shard, ranges)))[1]);
    whole.push((await timed(() => readFile(shard)))[1]);
    bundle.push((await timed(() => readWithBundleReader(prefix)))[1]);
  }
  const rate = (seconds: number): number => megabytes(shardBytes) / seconds;
  const fsRate = Math.max(rate(median(positional)), rate(median(whole)));
  const bundleRate = rate(median(bundle));
  console.log(`bundle: ${ranges.length} tensors, ${megabytes(shardBytes).toFixed(1)} MB in one shard`);
  console.log(`write (writeBundle, crc32c + Snappy index):  ${rate(writeSeconds).toFixed(0)} MB/s`);
  console.log(`read, fs positional reads of the same ranges: ${rate(median(positional)).toFixed(0)} MB/s`);
  console.log(`read, fs.readFile of the whole shard:         ${rate(median(whole)).toFixed(0)} MB/s`);
  console.log(`read, BundleReader.readAll (crc verified):    ${bundleRate.toFixed(0)} MB/s`);
  console.log(
    `ratio BundleReader / best plain fs:           ${(bundleRate / fsRate).toFixed(2)} (median of ${REPETITIONS})`,
  );
  console.log(
    `peak RSS:                                     ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
