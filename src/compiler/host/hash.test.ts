import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sipHash24, tfFingerprint64, tfHash64 } from "./hash.js";
import { attr, makeNode, nums, runTensors, shapeOf, str } from "./host.test-helpers.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("StringToHashBucketFast", () => {
  it("matches TF's documented example", () => {
    // tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3).numpy() → array([0, 2, 2])
    const node = makeNode("StringToHashBucketFast", { num_buckets: attr.int(3) });
    assert.deepEqual(nums(runTensors(node, [str(["Hello", "TensorFlow", "2.x"])])[0]), [0, 2, 2]);
  });

  it("matches TF's kernel test (string_to_hash_bucket_op_test.py)", () => {
    // Fingerprint64('a') -> 12917804110809363939 -> mod 10 -> 9, 'b' -> 11795596070477164822 -> 2,
    // 'c' -> 11430444447143000872 -> 2, 'd' -> 4470636696479570465 -> 5
    assert.equal(tfFingerprint64(bytes("a")), 12917804110809363939n);
    assert.equal(tfFingerprint64(bytes("b")), 11795596070477164822n);
    assert.equal(tfFingerprint64(bytes("c")), 11430444447143000872n);
    assert.equal(tfFingerprint64(bytes("d")), 4470636696479570465n);
    const node = makeNode("StringToHashBucketFast", { num_buckets: attr.int(10) });
    const [out] = runTensors(node, [str(["a", "b", "c", "d"], [2, 2])]);
    assert.deepEqual(nums(out), [9, 2, 2, 5]);
    assert.deepEqual(shapeOf(out), [2, 2]);
    // FarmHash's Fingerprint64("") is its k2 constant.
    assert.equal(tfFingerprint64(new Uint8Array()), 0x9ae16a3b2f90404fn);
  });
});

describe("StringToHashBucket (legacy Hash64)", () => {
  it("matches TF's kernel test", () => {
    // Hash64('a') -> 2996632905371535868 -> 8, 'b' -> 5795986006276551370 -> 0, 'c' -> 14899841994519054197 -> 7
    assert.equal(tfHash64(bytes("a")), 2996632905371535868n);
    assert.equal(tfHash64(bytes("b")), 5795986006276551370n);
    assert.equal(tfHash64(bytes("c")), 14899841994519054197n);
    const node = makeNode("StringToHashBucket", { num_buckets: attr.int(10) });
    assert.deepEqual(nums(runTensors(node, [str(["a", "b", "c"])])[0]), [8, 0, 7]);
  });

  it("hashes strings longer than one 8-byte block", () => {
    // Only the block loop differs from the short case; one bucket always gives 0.
    const node = makeNode("StringToHashBucket", { num_buckets: attr.int(1) });
    assert.deepEqual(nums(runTensors(node, [str(["a longer string than eight bytes"])])[0]), [0]);
    assert.notEqual(tfHash64(bytes("12345678")), tfHash64(bytes("12345679")));
  });
});

describe("StringToHashBucketStrong (SipHash-2-4)", () => {
  it("matches the SipHash reference vector", () => {
    // SipHash paper, appendix A: key 00..0f, message 00..0e → a129ca6149be45e5.
    const key = Array.from({ length: 16 }, (_, i) => i);
    const k0 = key.slice(0, 8).reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
    const k1 = key.slice(8).reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
    const message = Uint8Array.from({ length: 15 }, (_, i) => i);
    assert.equal(sipHash24(k0, k1, message), 0xa129ca6149be45e5n);
  });

  it("matches TF's documented example and kernel test", () => {
    // tf.strings.to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2]).numpy() → array([2, 0])
    const doc = makeNode("StringToHashBucketStrong", { num_buckets: attr.int(3), key: attr.ints([1, 2]) });
    assert.deepEqual(nums(runTensors(doc, [str(["Hello", "TF"])])[0]), [2, 0]);
    // key = [98765, 132]: 'a' -> 7157389809176466784 -> 4, 'b' -> 15805638358933211562 -> 2,
    // 'c' -> 18100027895074076528 -> 8
    assert.equal(sipHash24(98765n, 132n, bytes("a")), 7157389809176466784n);
    assert.equal(sipHash24(98765n, 132n, bytes("b")), 15805638358933211562n);
    assert.equal(sipHash24(98765n, 132n, bytes("c")), 18100027895074076528n);
    const node = makeNode("StringToHashBucketStrong", {
      num_buckets: attr.int(10),
      key: attr.ints([98765, 132]),
    });
    assert.deepEqual(nums(runTensors(node, [str(["a", "b", "c"])])[0]), [4, 2, 8]);
  });

  it("rejects a key without 2 elements, as TF does", () => {
    const node = makeNode("StringToHashBucketStrong", { num_buckets: attr.int(10), key: attr.ints([98765]) });
    assert.throws(() => runTensors(node, [str(["a"])]), { message: "Key must have 2 elements" });
  });
});
