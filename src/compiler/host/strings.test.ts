import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ServingError } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import {
  attr,
  i32,
  i64,
  makeNode,
  nums,
  runTensors,
  scalarStr,
  shapeOf,
  str,
  texts,
} from "./host.test-helpers.js";

const bytes = (...b: number[]) => new Tensor(DataType.DT_STRING, [1], [Uint8Array.from(b)]);

describe("StringJoin", () => {
  it("joins element-wise, repeating scalars", () => {
    // tf.strings.join([['abc','123'], ['def','456']], separator=' ') → ['abc def', '123 456']
    const node = makeNode("StringJoin", { separator: attr.string(" "), N: attr.int(2) });
    assert.deepEqual(texts(runTensors(node, [str(["abc", "123"]), str(["def", "456"])])[0]), [
      "abc def",
      "123 456",
    ]);
    const [out] = runTensors(node, [scalarStr("x"), str(["a", "b", "c", "d"], [2, 2]), scalarStr("y")]);
    assert.deepEqual(texts(out), ["x a y", "x b y", "x c y", "x d y"]);
    assert.deepEqual(shapeOf(out), [2, 2]);
  });

  it("rejects inputs of different shapes", () => {
    const node = makeNode("StringJoin", { separator: attr.string("") });
    assert.throws(() => runTensors(node, [str(["a", "b"]), str(["c"])]), {
      message: "Input shapes do not match: [2] vs. [1]",
    });
  });
});

describe("StringSplit", () => {
  it("splits on any delimiter byte, skipping empty tokens by default", () => {
    // tf.compat.v1.string_split(['hello world', 'a b c']): indices [[0,0],[0,1],[1,0],[1,1],[1,2]],
    // values ['hello','world','a','b','c'], dense_shape [2, 3]
    const node = makeNode("StringSplit", { skip_empty: attr.bool(true) });
    const [idx, values, shape] = runTensors(node, [str(["hello world", "a b c"]), scalarStr(" ")]);
    assert.deepEqual(nums(idx), [0, 0, 0, 1, 1, 0, 1, 1, 1, 2]);
    assert.deepEqual(texts(values), ["hello", "world", "a", "b", "c"]);
    assert.deepEqual(nums(shape), [2, 3]);
    const [, v2] = runTensors(node, [str(["a,b;;c"]), scalarStr(",;")]);
    assert.deepEqual(texts(v2), ["a", "b", "c"]);
  });

  it("keeps empty tokens with skip_empty=false and splits bytes on an empty delimiter", () => {
    const keep = makeNode("StringSplit", { skip_empty: attr.bool(false) });
    assert.deepEqual(texts(runTensors(keep, [str(["a,,b"]), scalarStr(",")])[1]), ["a", "", "b"]);
    const [, chars, shape] = runTensors(keep, [str(["abc", ""]), scalarStr("")]);
    assert.deepEqual(texts(chars), ["a", "b", "c"]);
    assert.deepEqual(nums(shape), [2, 3]);
  });
});

describe("StringSplitV2", () => {
  it("splits on the whole separator, keeping empty strings", () => {
    // Op doc: "1<>2<><>3" with sep "<>" returns ["1", "2", "", "3"].
    const node = makeNode("StringSplitV2", { maxsplit: attr.int(-1) });
    assert.deepEqual(texts(runTensors(node, [str(["1<>2<><>3"]), scalarStr("<>")])[1]), ["1", "2", "", "3"]);
  });

  it("splits on whitespace runs with an empty separator, and honours maxsplit", () => {
    const node = makeNode("StringSplitV2", { maxsplit: attr.int(-1) });
    const [idx, values, shape] = runTensors(node, [str(["  hello   world ", "a b c", "   "]), scalarStr("")]);
    assert.deepEqual(texts(values), ["hello", "world", "a", "b", "c"]);
    assert.deepEqual(nums(idx), [0, 0, 0, 1, 1, 0, 1, 1, 1, 2]);
    assert.deepEqual(nums(shape), [3, 3]);
    const once = makeNode("StringSplitV2", { maxsplit: attr.int(1) });
    assert.deepEqual(texts(runTensors(once, [str(["a b c"]), scalarStr("")])[1]), ["a", "b c"]);
    // TF's SplitV2 quirk (unlike Python): reaching maxsplit at the end still appends the (empty) rest.
    assert.deepEqual(texts(runTensors(once, [str(["x,y,z "]), scalarStr("")])[1]), ["x,y,z", ""]);
    assert.deepEqual(texts(runTensors(once, [str(["x,y,z"]), scalarStr(",")])[1]), ["x", "y,z"]);
  });
});

describe("ReduceJoin", () => {
  // Op doc, a = [["a", "b"], ["c", "d"]]:
  //   reduce_join(a, 0) ==> ["ac", "bd"]; reduce_join(a, 1) ==> ["ab", "cd"]; reduce_join(a, -2) ==> ["ac", "bd"]
  //   reduce_join(a, 0, keep_dims=True) ==> [["ac", "bd"]]; reduce_join(a, 1, keep_dims=True) ==> [["ab"], ["cd"]]
  //   reduce_join(a, 0, separator=".") ==> ["a.c", "b.d"]; reduce_join(a, [0, 1]) ==> "acbd"
  //   reduce_join(a, [1, 0]) ==> "abcd"; reduce_join(a, []) ==> [["a", "b"], ["c", "d"]]
  const a = str(["a", "b", "c", "d"], [2, 2]);
  const join = (axes: number[], keepDims = false, separator = "") => {
    const node = makeNode("ReduceJoin", {
      keep_dims: attr.bool(keepDims),
      separator: attr.string(separator),
    });
    const [out] = runTensors(node, [a, i32(axes)]);
    return { values: texts(out), shape: shapeOf(out) };
  };

  it("matches every example of the op's documentation", () => {
    assert.deepEqual(join([0]), { values: ["ac", "bd"], shape: [2] });
    assert.deepEqual(join([1]), { values: ["ab", "cd"], shape: [2] });
    assert.deepEqual(join([-2]), { values: ["ac", "bd"], shape: [2] });
    assert.deepEqual(join([0], true), { values: ["ac", "bd"], shape: [1, 2] });
    assert.deepEqual(join([1], true), { values: ["ab", "cd"], shape: [2, 1] });
    assert.deepEqual(join([0], false, "."), { values: ["a.c", "b.d"], shape: [2] });
    assert.deepEqual(join([0, 1]), { values: ["acbd"], shape: [] });
    assert.deepEqual(join([1, 0]), { values: ["abcd"], shape: [] });
    assert.deepEqual(join([]), { values: ["a", "b", "c", "d"], shape: [2, 2] });
  });

  it("rejects a bad axis with OUT_OF_RANGE and a repeated one with INVALID_ARGUMENT", () => {
    assert.throws(
      () => join([2]),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.OUT_OF_RANGE &&
        e.message === "Invalid reduction dimension 2 for input with 2 dimension(s)",
    );
    assert.throws(() => join([1, -1]), { message: "Duplicate reduction dimension -1" });
  });
});

describe("case, strip, length, substr", () => {
  it("lowers and uppers ASCII only without an encoding, Unicode with utf-8", () => {
    const lower = makeNode("StringLower", { encoding: attr.string("") });
    assert.deepEqual(texts(runTensors(lower, [str(["CamelCase", "ÀÉ"])])[0]), ["camelcase", "ÀÉ"]);
    const lowerUtf8 = makeNode("StringLower", { encoding: attr.string("utf-8") });
    assert.deepEqual(texts(runTensors(lowerUtf8, [str(["ÀÉ"])])[0]), ["àé"]);
    const upper = makeNode("StringUpper", { encoding: attr.string("") });
    assert.deepEqual(texts(runTensors(upper, [str(["abc-é"])])[0]), ["ABC-é"]);
  });

  it("strips ASCII whitespace and measures bytes or UTF-8 characters", () => {
    assert.deepEqual(texts(runTensors(makeNode("StringStrip"), [str(["  a b \n", "\t"])])[0]), ["a b", ""]);
    // tf.strings.length(["Hello", "TensorFlow", "🙂"]) → [5, 10, 4]; with unit="UTF8_CHAR" → [5, 10, 1]
    const input = str(["Hello", "TensorFlow", "🙂"]);
    const bytesLen = runTensors(makeNode("StringLength", { unit: attr.string("BYTE") }), [input])[0];
    assert.deepEqual(nums(bytesLen), [5, 10, 4]);
    assert.equal(bytesLen!.dtype, DataType.DT_INT32);
    const chars = runTensors(makeNode("StringLength", { unit: attr.string("UTF8_CHAR") }), [input])[0];
    assert.deepEqual(nums(chars), [5, 10, 1]);
  });

  it("takes substrings by byte with negative positions and clipped lengths", () => {
    const node = makeNode("Substr", { unit: attr.string("BYTE") });
    // Op doc: input ["Hello", "World"], pos 1, len 3 → ["ell", "orl"].
    assert.deepEqual(texts(runTensors(node, [str(["Hello", "World"]), i32([1], []), i32([3], [])])[0]), [
      "ell",
      "orl",
    ]);
    // Element-wise pos/len.
    const grid = str(["Hello", "World", "abcde", "12345"], [2, 2]);
    const out = runTensors(node, [grid, i32([1, 2, 3, 4], [2, 2]), i32([2, 3, 1, 9], [2, 2])])[0];
    assert.deepEqual(texts(out), ["el", "rld", "d", "5"]);
    assert.deepEqual(texts(runTensors(node, [str(["Hello"]), i32([-3], []), i32([2], [])])[0]), ["ll"]);
    assert.throws(() => runTensors(node, [str(["abc"]), i32([4], []), i32([1], [])]), {
      message: "pos 4 out of range for string b'abc' at index 0",
    });
  });

  it("counts UTF-8 characters with unit UTF8_CHAR", () => {
    const node = makeNode("Substr", { unit: attr.string("UTF8_CHAR") });
    assert.deepEqual(texts(runTensors(node, [str(["héllo wörld"]), i64([1], []), i64([4], [])])[0]), [
      "éllo",
    ]);
    assert.deepEqual(texts(runTensors(node, [str(["héllo wörld"]), i64([-5], []), i64([2], [])])[0]), ["wö"]);
  });
});

describe("Base64 (web-safe)", () => {
  it("encodes with the URL-safe alphabet, padding on request", () => {
    const enc = makeNode("EncodeBase64", { pad: attr.bool(false) });
    assert.deepEqual(texts(runTensors(enc, [str(["hello", ""])])[0]), ["aGVsbG8", ""]);
    assert.deepEqual(texts(runTensors(enc, [bytes(0xfb, 0xff)])[0]), ["-_8"]);
    const padded = makeNode("EncodeBase64", { pad: attr.bool(true) });
    assert.deepEqual(texts(runTensors(padded, [str(["hello", "hi", "abc"])])[0]), [
      "aGVsbG8=",
      "aGk=",
      "YWJj",
    ]);
  });

  it("decodes with or without padding and rejects the standard alphabet", () => {
    const dec = makeNode("DecodeBase64");
    assert.deepEqual(texts(runTensors(dec, [str(["aGVsbG8=", "aGVsbG8", "aGk", "YWJj", ""])])[0]), [
      "hello",
      "hello",
      "hi",
      "abc",
      "",
    ]);
    assert.deepEqual([...runTensors(dec, [str(["-_8"])])[0]!.strings[0]!], [0xfb, 0xff]);
    assert.throws(() => runTensors(dec, [str(["+/8="])]), { message: "Invalid character found in base64." });
    assert.throws(() => runTensors(dec, [str(["aGVsb"])]), {
      message: "Base64 string length cannot be 1 modulo 4.",
    });
  });
});

describe("regular expressions (RE2 semantics)", () => {
  it("replaces all matches, or the first one only", () => {
    // tf.strings.regex_replace("Text with tags.<br /><b>contains html</b>", "<[^>]+>", " ")
    //   → "Text with tags.  contains html "
    const all = makeNode("StaticRegexReplace", {
      pattern: attr.string("<[^>]+>"),
      rewrite: attr.string(" "),
      replace_global: attr.bool(true),
    });
    assert.deepEqual(texts(runTensors(all, [str(["Text with tags.<br /><b>contains html</b>"])])[0]), [
      "Text with tags.  contains html ",
    ]);
    const first = makeNode("RegexReplace", { replace_global: attr.bool(false) });
    assert.deepEqual(texts(runTensors(first, [str(["a1b2c3"]), scalarStr("\\d"), scalarStr("#")])[0]), [
      "a#b2c3",
    ]);
  });

  it("rewrites with RE2's \\N groups and keeps $ literal", () => {
    const node = makeNode("RegexReplace", { replace_global: attr.bool(true) });
    const [out] = runTensors(node, [
      str(["john smith"]),
      scalarStr("(\\w+) (\\w+)"),
      scalarStr("\\2, \\1 $1 \\\\"),
    ]);
    assert.deepEqual(texts(out), ["smith, john $1 \\"]);
  });

  it("handles empty matches as RE2::GlobalReplace does", () => {
    const node = makeNode("RegexReplace", { replace_global: attr.bool(true) });
    assert.deepEqual(texts(runTensors(node, [str(["abc"]), scalarStr(""), scalarStr("-")])[0]), ["-a-b-c-"]);
    // No empty match right after a match: RE2 gives "XbX" where JS's replace would give "XbXX".
    assert.deepEqual(texts(runTensors(node, [str(["baaa"]), scalarStr("a*"), scalarStr("X")])[0]), ["XbX"]);
  });

  it("full-matches the whole string", () => {
    // tf.strings.regex_full_match(["TF lib", "lib TF"], ".*lib$") → [True, False]
    const node = makeNode("StaticRegexFullMatch", { pattern: attr.string(".*lib$") });
    const [out] = runTensors(node, [str(["TF lib", "lib TF"])]);
    assert.deepEqual(nums(out), [1, 0]);
    assert.equal(out!.dtype, DataType.DT_BOOL);
    const dyn = makeNode("RegexFullMatch");
    assert.deepEqual(nums(runTensors(dyn, [str(["TF lib", "ab"]), scalarStr("(?i)tf.*|a|ab")])[0]), [1, 1]);
    // The checkpoint-path pattern TF2 SavedModels carry.
    const s3 = makeNode("StaticRegexFullMatch", { pattern: attr.string("^s3://.*") });
    assert.deepEqual(nums(runTensors(s3, [str(["s3://bucket/x", "/tmp/x"])])[0]), [1, 0]);
  });

  it("reports an invalid pattern as INVALID_ARGUMENT", () => {
    const node = makeNode("RegexFullMatch");
    assert.throws(
      () => runTensors(node, [str(["a"]), scalarStr("(unclosed")]),
      (e: unknown) =>
        e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && /^Invalid pattern/.test(e.message),
    );
  });
});
