import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { DataType } from "../tensor/dtype.js";
import { halfToFloat } from "../tensor/half.js";
import { writeNpy } from "../tensor/npy.js";
import { shapeToProto } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { parsePythonExpression, parseRunInputs, type RunInputOptions } from "./run-inputs.js";

function signature(inputs: Record<string, [DataType, number[] | null]>): SignatureDef {
  return create(SignatureDefSchema, {
    methodName: "tensorflow/serving/predict",
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([key, [dtype, shape]]) => [
        key,
        { dtype, tensorShape: shapeToProto(shape), encoding: { case: "name" as const, value: `${key}:0` } },
      ]),
    ),
  });
}

const SIG = signature({
  x: [DataType.DT_FLOAT, [-1, 2]],
  v: [DataType.DT_FLOAT, [-1]],
  d: [DataType.DT_DOUBLE, null],
  h: [DataType.DT_HALF, [-1]],
  i: [DataType.DT_INT32, [-1]],
  l: [DataType.DT_INT64, [-1]],
  u: [DataType.DT_UINT8, [-1]],
  b: [DataType.DT_BOOL, [-1]],
  s: [DataType.DT_STRING, [-1]],
});

const parse = (options: RunInputOptions, sig = SIG, read?: (path: string) => Promise<Uint8Array>) =>
  parseRunInputs(options, sig, read);

async function one(options: RunInputOptions, key: string): Promise<Tensor> {
  const feed = await parse(options);
  assert.deepEqual([...feed.keys()], [key]);
  return feed.get(key)!;
}

async function rejectsInvalid(promise: Promise<unknown>, pattern: RegExp, code = Code.INVALID_ARGUMENT) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ServingError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("--input_exprs", () => {
  it("takes nested lists with the literal's shape, cast to the input's dtype", async () => {
    const x = await one({ inputExprs: "x=[[1,2],[3,4.5]]" }, "x");
    assert.equal(x.dtype, DataType.DT_FLOAT);
    assert.deepEqual(x.shape, [2, 2]);
    assert.deepEqual([...x.values], [1, 2, 3, 4.5]);
    const d = await one({ inputExprs: "d=((1, -2.5e-3), (1e3, .5))" }, "d");
    assert.deepEqual([...d.values], [1, -2.5e-3, 1000, 0.5]);
    const l = await one({ inputExprs: "l=[9223372036854775807, -0x10, 1_000]" }, "l");
    assert.deepEqual([...l.values], [9223372036854775807n, -16n, 1000n]);
    const h = await one({ inputExprs: "h=[0.1, -2]" }, "h");
    assert.deepEqual([...(h.values as Uint16Array)].map(halfToFloat), [0.0999755859375, -2]);
  });

  it("keeps a scalar a scalar, even for a [-1] input (no reshaping, as saved_model_cli)", async () => {
    const v = await one({ inputExprs: "v=3" }, "v");
    assert.deepEqual(v.shape, []);
    assert.deepEqual([...v.values], [3]);
    assert.deepEqual((await one({ inputExprs: "v=[]" }, "v")).shape, [0]);
    assert.deepEqual((await one({ inputExprs: "v=[[]]" }, "v")).shape, [1, 0]);
  });

  it("parses several assignments separated by ';', not splitting inside strings or brackets", async () => {
    const feed = await parse({ inputExprs: "s=['a;b', \"c=d\"]; i=[1, 2];;v=np.array([1.0,2.0])" });
    assert.deepEqual([...feed.keys()], ["s", "i", "v"]);
    assert.deepEqual(feed.get("s")!.strings.map(text), ["a;b", "c=d"]);
    assert.deepEqual([...feed.get("i")!.values], [1, 2]);
  });

  it("reads booleans, strings, bytes and escapes", async () => {
    const b = await one({ inputExprs: "b=[True, False, 1, 0]" }, "b");
    assert.deepEqual([...b.values], [1, 0, 1, 0]);
    const s = await one({ inputExprs: "s=['héllo', b'\\x00\\xff', r'a\\n', 'x' 'y', '''t''']" }, "s");
    assert.deepEqual(
      s.strings.map((v) => [...v]),
      [[0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f], [0, 0xff], [0x61, 0x5c, 0x6e], [0x78, 0x79], [0x74]],
    );
  });

  it("supports basic NumPy calls and special floats", async () => {
    const ones = await one({ inputExprs: "x=np.ones((2,3))" }, "x");
    assert.deepEqual(ones.shape, [2, 3]);
    assert.deepEqual([...ones.values], [1, 1, 1, 1, 1, 1]);
    assert.deepEqual((await one({ inputExprs: "i=np.zeros(3, dtype=np.int32)" }, "i")).shape, [3]);
    assert.deepEqual([...(await one({ inputExprs: "i=np.full((2,), 7)" }, "i")).values], [7, 7]);
    assert.deepEqual([...(await one({ inputExprs: "l=np.arange(1, 7, 2)" }, "l")).values], [1n, 3n, 5n]);
    assert.deepEqual([...(await one({ inputExprs: "v=-numpy.ones(2)" }, "v")).values], [-1, -1]);
    // np.array(..., dtype=int) truncates like NumPy; the result then fits the int32 input.
    assert.deepEqual(
      [...(await one({ inputExprs: "i=np.array([1.7, -2.7], dtype='int32')" }, "i")).values],
      [1, -2],
    );
    assert.deepEqual([...(await one({ inputExprs: "v=[np.float32(0.5), 1]" }, "v")).values], [0.5, 1]);
    const nan = await one({ inputExprs: "v=[float('nan'), float('-inf'), np.inf]" }, "v");
    assert.ok(Number.isNaN(nan.values[0]));
    assert.deepEqual([...nan.values].slice(1), [-Infinity, Infinity]);
  });

  it("rejects values that do not fit the input's dtype", async () => {
    await rejectsInvalid(parse({ inputExprs: "i=[1, 1.5]" }), /input "i" is int32: 1\.5 is not an integer/);
    await rejectsInvalid(
      parse({ inputExprs: "u=[300]" }),
      /input "u" is uint8: 300 is out of range \[0, 255\]/,
    );
    await rejectsInvalid(parse({ inputExprs: "u=[-1]" }), /out of range/);
    await rejectsInvalid(parse({ inputExprs: "l=[2**3]" }), /not a valid python literal/);
    await rejectsInvalid(parse({ inputExprs: "l=[9223372036854775808]" }), /out of range/);
    await rejectsInvalid(parse({ inputExprs: "v=[1e39]" }), /1e\+39 does not fit/);
    await rejectsInvalid(parse({ inputExprs: "v=['a']" }), /'a' is a string, not a number/);
    await rejectsInvalid(parse({ inputExprs: "s=[1]" }), /input "s" is string: 1 is not a string/);
    await rejectsInvalid(parse({ inputExprs: "b=[2]" }), /is not a bool/);
    await rejectsInvalid(parse({ inputExprs: "i=np.array([300], dtype=np.int8)" }), /out of bounds for int8/);
  });

  it("rejects ragged nesting, bad syntax and anything beyond literals", async () => {
    await rejectsInvalid(parse({ inputExprs: "x=[[1,2],[3]]" }), /inhomogeneous shape: .*\(2,\) and \(1,\)/);
    await rejectsInvalid(parse({ inputExprs: "x=[1, 2" }), /not a valid python literal/);
    await rejectsInvalid(parse({ inputExprs: "x=__import__('os')" }), /unsupported function __import__\(\)/);
    await rejectsInvalid(parse({ inputExprs: "x=open('f')" }), /unsupported function open\(\)/);
    await rejectsInvalid(parse({ inputExprs: "x=y" }), /unknown name "y"/);
    await rejectsInvalid(parse({ inputExprs: "x=1j" }), /complex literal/);
    await rejectsInvalid(parse({ inputExprs: "x=None" }), /cannot hold None/);
    await rejectsInvalid(parse({ inputExprs: "[1, 2]" }), /format is incorrect/);
  });

  it("evaluates Python literals", () => {
    assert.deepEqual(parsePythonExpression("{'a': (1,), 'b': []}"), {
      kind: "dict",
      entries: [
        [
          { kind: "str", value: "a" },
          { kind: "tuple", items: [{ kind: "int", value: 1n }] },
        ],
        [
          { kind: "str", value: "b" },
          { kind: "list", items: [] },
        ],
      ],
    });
    assert.deepEqual(parsePythonExpression("(-1.5)"), { kind: "float", value: -1.5 });
  });
});

describe("--inputs", () => {
  const freshDir = useScratchDir("run-inputs");

  async function npy(tensor: Tensor, name = "a.npy"): Promise<string> {
    const dir = freshDir();
    await mkdir(dir);
    const path = join(dir, name);
    await writeFile(path, writeNpy(tensor));
    return path;
  }

  it("reads .npy files and casts them to the input's dtype", async () => {
    const a = await npy(new Tensor(DataType.DT_DOUBLE, [2, 2], new Float64Array([1, 2, 3, 4])));
    const b = await npy(new Tensor(DataType.DT_INT64, [2], new BigInt64Array([5n, 6n])));
    const feed = await parse({ inputs: `x=${a};i=${b}` });
    assert.equal(feed.get("x")!.dtype, DataType.DT_FLOAT);
    assert.deepEqual([...feed.get("x")!.values], [1, 2, 3, 4]);
    assert.equal(feed.get("i")!.dtype, DataType.DT_INT32);
    assert.deepEqual([...feed.get("i")!.values], [5, 6]);
  });

  it("rejects a float64 file with values beyond float32 for a float32 input", async () => {
    const path = await npy(new Tensor(DataType.DT_DOUBLE, [1], new Float64Array([1e300])));
    await rejectsInvalid(parse({ inputs: `v=${path}` }), /1e\+300 does not fit in float32/);
  });

  it("rejects a file whose values do not fit", async () => {
    const path = await npy(new Tensor(DataType.DT_FLOAT, [2], new Float32Array([1, 2.5])));
    await rejectsInvalid(parse({ inputs: `i=${path}` }), /2\.5 is not an integer/);
  });

  it("rejects .npz: the [variable] form and zip files", async () => {
    await rejectsInvalid(parse({ inputs: "x=data.npz[arr_0]" }), /\.npz is not supported/);
    const dir = freshDir();
    await mkdir(dir);
    await writeFile(join(dir, "a.npz"), new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]));
    await rejectsInvalid(parse({ inputs: `x=${join(dir, "a.npz")}` }), /\.npz archive/);
  });

  it("reports a missing file as NOT_FOUND", async () => {
    await rejectsInvalid(
      parse({ inputs: `x=${join(freshDir(), "none.npy")}` }),
      /no such file/,
      Code.NOT_FOUND,
    );
  });
});

describe("--input_examples", () => {
  it("serializes a list of feature dicts as tf.Example protos in a DT_STRING [N] tensor", async () => {
    const t = await one(
      { inputExamples: `s=[{"feature": [1.0, 2], "name": ["a", "é"], "ids": [1, -2]}, {"raw": [b"\\x00"]}]` },
      "s",
    );
    assert.equal(t.dtype, DataType.DT_STRING);
    assert.deepEqual(t.shape, [2]);
    const first = fromBinary(ExampleSchema, t.strings[0]!).features!.feature;
    assert.deepEqual(first.feature!.kind, {
      case: "floatList",
      value: { $typeName: "tensorflow.FloatList", value: [1, 2] },
    });
    assert.equal(first.name!.kind.case, "bytesList");
    assert.deepEqual((first.name!.kind.value!.value as Uint8Array[]).map(text), ["a", "é"]);
    assert.deepEqual(first.ids!.kind.value!.value, [1n, -2n]);
    const second = fromBinary(ExampleSchema, t.strings[1]!).features!.feature;
    assert.deepEqual([...(second.raw!.kind.value!.value[0] as Uint8Array)], [0]);
  });

  it("rejects non-string inputs, non-lists, empty and mixed feature lists", async () => {
    await rejectsInvalid(
      parse({ inputExamples: "x=[{'a': [1.0]}]" }),
      /need a string input, but "x" is float32/,
    );
    await rejectsInvalid(parse({ inputExamples: "s={'a': [1.0]}" }), /must be a list of dictionaries/);
    await rejectsInvalid(parse({ inputExamples: "s=[{'a': 1.0}]" }), /feature value must be a list/);
    await rejectsInvalid(parse({ inputExamples: "s=[{'a': []}]" }), /the list is empty/);
    await rejectsInvalid(parse({ inputExamples: "s=[{'a': [1, 2.5]}]" }), /2\.5 does not fit a int64 list/);
    await rejectsInvalid(parse({ inputExamples: "s=[{'a': ['x', 1]}]" }), /1 does not fit a str list/);
  });
});

describe("input keys", () => {
  it("rejects unknown keys, listing the signature's inputs", async () => {
    const sig = signature({ images: [DataType.DT_FLOAT, [-1]], labels: [DataType.DT_INT64, [-1]] });
    await rejectsInvalid(
      parse({ inputExprs: "image=[1.0]" }, sig),
      /"image" is not a valid input key\. Please choose from "images", "labels"/,
    );
  });

  it("rejects a key given twice, in one option or across options", async () => {
    await rejectsInvalid(
      parse({ inputExprs: "v=[1.0];v=[2.0]" }),
      /"v" is given more than once \(twice in --input_exprs\)/,
    );
    await rejectsInvalid(
      parse({ inputExprs: "s=['a']", inputExamples: "s=[{'a': [1]}]" }),
      /in --input_exprs and --input_examples/,
    );
  });

  it("leaves missing inputs to the signature runner", async () => {
    assert.equal((await parse({ inputExprs: "v=[1.0]" })).size, 1);
  });
});
