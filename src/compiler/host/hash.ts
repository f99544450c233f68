// String hashing into buckets, as TF's string_to_hash_bucket_op.{h,cc}:
//   StringToHashBucketFast   Fingerprint64 (FarmHash's farmhashna::Fingerprint64) mod num_buckets
//   StringToHashBucketStrong SipHash-2-4 keyed by the `key` attr (tsl::StrongKeyedHash) mod num_buckets
//   StringToHashBucket       (deprecated) TF's own Hash64 (MurmurHash64A, seed 0xDECAFCAFFE) mod num_buckets
import { fingerprint64 } from "farmhash-modern";
import { invalidArgument } from "../../errors.js";
import type { HostKernel } from "./kernel.js";
import { attrBigInts, attrInt, int64Tensor, stringInput } from "./util.js";

const MASK64 = (1n << 64n) - 1n;

/** FarmHash Fingerprint64 of the bytes, as TF's tsl::Fingerprint64 (unsigned). */
export const tfFingerprint64 = (bytes: Uint8Array): bigint => fingerprint64(bytes);

function readUint64LE(b: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

/** TF's core/lib/hash/hash.cc Hash64(data, n, seed): MurmurHash64A. */
export function tfHash64(data: Uint8Array, seed = 0xdecafcaffen): bigint {
  const m = 0xc6a4a7935bd1e995n;
  const r = 47n;
  let n = data.length;
  let h = (seed ^ ((BigInt(n) * m) & MASK64)) & MASK64;
  let at = 0;
  while (n >= 8) {
    let k = readUint64LE(data, at);
    at += 8;
    n -= 8;
    k = (k * m) & MASK64;
    k ^= k >> r;
    k = (k * m) & MASK64;
    h ^= k;
    h = (h * m) & MASK64;
  }
  if (n > 0) {
    for (let i = n - 1; i >= 0; i--) h ^= BigInt(data[at + i]!) << BigInt(8 * i);
    h = (h * m) & MASK64;
  }
  h ^= h >> r;
  h = (h * m) & MASK64;
  h ^= h >> r;
  return h;
}

const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK64;

/** SipHash-2-4 with a 128-bit key given as two uint64 (k0, k1): TF's StrongKeyedHash (highwayhash::SipHash). */
export function sipHash24(k0: bigint, k1: bigint, data: Uint8Array): bigint {
  k0 &= MASK64;
  k1 &= MASK64;
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & MASK64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const full = data.length - (data.length % 8);
  for (let at = 0; at < full; at += 8) {
    const m = readUint64LE(data, at);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let last = BigInt(data.length & 0xff) << 56n;
  for (let i = data.length - 1; i >= full; i--) last |= BigInt(data[i]!) << BigInt(8 * (i - full));
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK64;
}

type Hasher = (bytes: Uint8Array) => bigint;

/** A kernel hashing each string of input 0 into num_buckets buckets; `hasher` is built once per call. */
const bucketKernel =
  (hasher: (node: Parameters<HostKernel>[0]) => Hasher, inputName: string): HostKernel =>
  (node, inputs) => {
    const numBuckets = attrInt(node, "num_buckets");
    if (numBuckets < 1) throw invalidArgument(`num_buckets must be >= 1, got ${numBuckets}`);
    const hash = hasher(node);
    const t = stringInput(node, inputs, 0, inputName);
    const buckets = BigInt(numBuckets);
    return [
      int64Tensor(
        t.shape,
        t.strings.map((s) => hash(s) % buckets),
      ),
    ];
  };

function strongHasher(node: Parameters<HostKernel>[0]): Hasher {
  const key = attrBigInts(node, "key");
  if (key.length !== 2) throw invalidArgument("Key must have 2 elements");
  const k0 = BigInt.asUintN(64, key[0]!);
  const k1 = BigInt.asUintN(64, key[1]!);
  return (s) => sipHash24(k0, k1, s);
}

export const HASH_KERNELS: Readonly<Record<string, HostKernel>> = {
  StringToHashBucketFast: bucketKernel(() => tfFingerprint64, "input"),
  StringToHashBucket: bucketKernel(() => (s) => tfHash64(s), "string_tensor"),
  StringToHashBucketStrong: bucketKernel(strongHasher, "input"),
};
