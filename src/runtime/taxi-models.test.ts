// Three real SavedModels that need the sparse / bucketize / gradient host kernels, run end to end with
// every output checked against values computed here, independently of the engine:
//   tf2_module_regression_multisig  `train` (BroadcastGradientArgs in the GradientTape graph, SGD step),
//   tft_taxi_transform_vocab        tf.Transform serving_default (BoostedTreesBucketize, vocab tables),
//   estimator_taxi_tf_example       DNNLinearCombinedClassifier over tf.Examples (SparseReshape,
//                                   SparseFillEmptyRows, Unique, SparseSegmentSum, bucketize, vocab).
// The constants the expected values need (z-score means and variances, bucket boundaries, OOV bucket
// counts) were read once from each model's graph and are written out below with the node they come from.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { fingerprint64 } from "farmhash-modern";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import { runSignature as run, withServable } from "../../test/reference.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import type { FeatureSchema } from "../proto/gen/tensorflow/core/example/feature_pb.js";
import { openSavedModel, readVariables } from "../savedmodel/saved-model.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";

const f = Math.fround;

// ---------------------------------------------------------------------------------------------
// Helpers.

function output(outputs: Map<string, Tensor>, alias: string): Tensor {
  const t = outputs.get(alias);
  assert.ok(t, `output ${alias} (have ${[...outputs.keys()].join(", ")})`);
  return t;
}

/** Float outputs equal to `expected` within `tol` relative (NaN matches NaN). */
function assertClose(
  t: Tensor,
  expected: readonly number[],
  shape: readonly number[],
  what: string,
  tol = 1e-6,
) {
  assert.equal(t.dtype, DataType.DT_FLOAT, `${what}: dtype`);
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  const actual = Array.from(t.values as Float32Array);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= tol * Math.max(1, Math.abs(e));
    assert.ok(ok, `${what}[${i}]: got ${a}, expected ${e} (all: ${actual} vs ${expected})`);
  });
}

function assertInts(
  t: Tensor,
  dtype: DataType,
  expected: readonly number[],
  shape: readonly number[],
  what: string,
) {
  assert.equal(t.dtype, dtype, `${what}: dtype`);
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  assert.deepEqual(Array.from(t.values as ArrayLike<number | bigint>, Number), expected, what);
}

function assertStrings(t: Tensor, expected: readonly string[], shape: readonly number[], what: string) {
  assert.equal(t.dtype, DataType.DT_STRING, `${what}: dtype`);
  assert.deepEqual(t.shape, shape, `${what}: shape`);
  assert.deepEqual(
    t.strings.map((b) => new TextDecoder().decode(b)),
    expected,
    what,
  );
}

/** A tf.Transform vocabulary: line i (the whole line, key_index -2) maps to i (value_index -1). */
function vocabulary(path: string): Map<string, number> {
  const lines = readFileSync(path, "utf8").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return new Map(lines.map((line, i) => [line, i]));
}

/** compute_and_apply_vocabulary with num_oov_buckets: the line number, else size + Fingerprint64 % buckets. */
function applyVocab(vocab: Map<string, number>, value: string, oovBuckets: number): number {
  return (
    vocab.get(value) ??
    vocab.size + Number(fingerprint64(new TextEncoder().encode(value)) % BigInt(oovBuckets))
  );
}

/** tft.apply_buckets: the number of boundaries <= x (values on a boundary go to the upper bucket). */
const bucketOf = (x: number, boundaries: readonly number[]): number =>
  boundaries.filter((b) => f(b) <= f(x)).length;

/** tft.scale_to_z_score in float32: (x - mean) / sqrt(var), unless sqrt(var) is 0. */
function zScore(x: number, mean: number, variance: number): number {
  const sub = f(f(x) - f(mean));
  const sd = f(Math.sqrt(f(variance)));
  return sd === 0 ? sub : f(sub / sd);
}

// ---------------------------------------------------------------------------------------------
// The Chicago-taxi features both taxi models read.

interface Trip {
  company?: string;
  dropoff_census_tract?: number;
  dropoff_community_area?: number;
  dropoff_latitude?: number;
  dropoff_longitude?: number;
  fare?: number;
  payment_type?: string;
  pickup_census_tract?: number;
  pickup_community_area?: number;
  pickup_latitude?: number;
  pickup_longitude?: number;
  tips?: number;
  trip_miles?: number;
  trip_seconds?: number;
  trip_start_day?: number;
  trip_start_hour?: number;
  trip_start_month?: number;
  trip_start_timestamp?: number;
}

type FeatureKind = "string" | "int64" | "float";

/** Every raw feature, alphabetically (the order tf.Transform flattens them in), with its dtype. */
const FEATURES: readonly (readonly [keyof Trip, FeatureKind])[] = [
  ["company", "string"],
  ["dropoff_census_tract", "int64"],
  ["dropoff_community_area", "int64"],
  ["dropoff_latitude", "float"],
  ["dropoff_longitude", "float"],
  ["fare", "float"],
  ["payment_type", "string"],
  ["pickup_census_tract", "int64"],
  ["pickup_community_area", "int64"],
  ["pickup_latitude", "float"],
  ["pickup_longitude", "float"],
  ["tips", "float"],
  ["trip_miles", "float"],
  ["trip_seconds", "int64"],
  ["trip_start_day", "int64"],
  ["trip_start_hour", "int64"],
  ["trip_start_month", "int64"],
  ["trip_start_timestamp", "int64"],
];

// A value equal to a boundary below tests apply_buckets' "boundary goes up" rule.
const TRIPS: Trip[] = [
  {
    company: "Flash Cab",
    dropoff_census_tract: 17031839100,
    dropoff_community_area: 32,
    dropoff_latitude: 41.8809928894043,
    dropoff_longitude: -87.63274383544922,
    fare: 12.45,
    payment_type: "Credit Card",
    pickup_census_tract: 17031081500,
    pickup_community_area: 8,
    pickup_latitude: 41.892042,
    pickup_longitude: -87.631864,
    tips: 3,
    trip_miles: 2.1,
    trip_seconds: 720,
    trip_start_day: 3,
    trip_start_hour: 14,
    trip_start_month: 5,
    trip_start_timestamp: 1400269500,
  },
  {
    company: "Some New Cab Co",
    dropoff_latitude: 42.1,
    dropoff_longitude: -87.5,
    fare: 5,
    payment_type: "Cash",
    pickup_community_area: 76,
    pickup_latitude: 41.7,
    pickup_longitude: -87.9,
    tips: 0,
    trip_miles: 0.5,
    trip_seconds: 60,
    trip_start_day: 7,
    trip_start_hour: 23,
    trip_start_month: 12,
  },
  {
    payment_type: "Prcard",
    trip_start_hour: 0,
  },
  {
    company: "Taxi Affiliation Services",
    dropoff_census_tract: 17031320100,
    dropoff_community_area: 8,
    dropoff_latitude: 41.85934829711914,
    dropoff_longitude: -87.65,
    fare: 20,
    payment_type: "Bitcoin",
    pickup_census_tract: 17031980000,
    pickup_community_area: 76,
    pickup_latitude: 41.979,
    pickup_longitude: -87.903,
    tips: 10,
    trip_miles: 17.3,
    trip_seconds: 2400,
    trip_start_day: 1,
    trip_start_hour: 6,
    trip_start_month: 1,
    trip_start_timestamp: 1420000000,
  },
];

/** The fixed-up dense value of a raw feature (tf.Transform's _fill_in_missing: '' or 0 when absent). */
const denseString = (t: Trip, key: keyof Trip): string => (t[key] as string | undefined) ?? "";
const denseNumber = (t: Trip, key: keyof Trip): number => (t[key] as number | undefined) ?? 0;

/** The transformed features of the Chicago-taxi preprocessing_fn, computed with `c`'s constants. */
interface TransformConstants {
  companyVocab: Map<string, number>;
  paymentVocab: Map<string, number>;
  oovBuckets: number;
  zScore: Record<"trip_miles" | "fare" | "trip_seconds", readonly [number, number]>;
  boundaries: Record<
    "pickup_latitude" | "pickup_longitude" | "dropoff_latitude" | "dropoff_longitude",
    readonly number[]
  >;
}

function transform(t: Trip, c: TransformConstants) {
  const fare = f(denseNumber(t, "fare"));
  const tips = f(denseNumber(t, "tips"));
  return {
    company_xf: applyVocab(c.companyVocab, denseString(t, "company"), c.oovBuckets),
    payment_type_xf: applyVocab(c.paymentVocab, denseString(t, "payment_type"), c.oovBuckets),
    dropoff_census_tract_xf: denseNumber(t, "dropoff_census_tract"),
    dropoff_community_area_xf: denseNumber(t, "dropoff_community_area"),
    pickup_census_tract_xf: denseNumber(t, "pickup_census_tract"),
    pickup_community_area_xf: denseNumber(t, "pickup_community_area"),
    trip_start_day_xf: denseNumber(t, "trip_start_day"),
    trip_start_hour_xf: denseNumber(t, "trip_start_hour"),
    trip_start_month_xf: denseNumber(t, "trip_start_month"),
    pickup_latitude_xf: bucketOf(denseNumber(t, "pickup_latitude"), c.boundaries.pickup_latitude),
    pickup_longitude_xf: bucketOf(denseNumber(t, "pickup_longitude"), c.boundaries.pickup_longitude),
    dropoff_latitude_xf: bucketOf(denseNumber(t, "dropoff_latitude"), c.boundaries.dropoff_latitude),
    dropoff_longitude_xf: bucketOf(denseNumber(t, "dropoff_longitude"), c.boundaries.dropoff_longitude),
    fare_xf: zScore(fare, ...c.zScore.fare),
    trip_miles_xf: zScore(denseNumber(t, "trip_miles"), ...c.zScore.trip_miles),
    // trip_seconds is int64, cast to float32 before scaling.
    trip_seconds_xf: zScore(f(denseNumber(t, "trip_seconds")), ...c.zScore.trip_seconds),
    // The label: tips > 20% of the fare; 0 when the fare is NaN (0.2 is the float32 Const "Const").
    tips_xf: Number.isNaN(fare) ? 0 : tips > f(fare * f(0.2)) ? 1 : 0,
  };
}

// ---------------------------------------------------------------------------------------------

describe("taxi and training SavedModels against independent computations", needsFixtures, () => {
  it("tf2_module_regression_multisig train: the MSE loss and one SGD(0.5) step on w and b, twice", async () => {
    const dir = savedModelFixture("tf2_module_regression_multisig");
    const vars = await readVariables(await openSavedModel(dir, { tags: ["serve"] }));
    const read = (key: string) => Array.from(vars.get(key)!.values as Float32Array);
    let [w] = read("w/.ATTRIBUTES/VARIABLE_VALUE") as [number];
    let [b] = read("b/.ATTRIBUTES/VARIABLE_VALUE") as [number];
    // The optimizer's learning rate (also folded into the train graph as SGD/Cast/ReadVariableOp).
    const [lr] = read("optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE") as [number];
    assert.equal(lr, 0.5);
    const x = [1, 2, 3, 4].map(f);
    const y = [3, 5, 7, 9].map(f);
    const n = x.length;
    await withServable(dir, async (servable) => {
      const variable = async (key: string) => output(await run(servable, key, {}), "output");
      const value = async (key: string) => (await variable(key)).values[0] as number;
      assert.deepEqual(await value("w"), w);
      assert.deepEqual(await value("b"), b);
      for (let step = 0; step < 2; step++) {
        const out = await run(servable, "train", {
          x: new Tensor(DataType.DT_FLOAT, [n], Float32Array.from(x)),
          y: new Tensor(DataType.DT_FLOAT, [n], Float32Array.from(y)),
        });
        // loss = mean((w * x + b - y)^2), from the variables before the step.
        const residual = x.map((xi, i) => f(f(f(w * xi) + b) - y[i]!));
        const loss = residual.reduce((s, r) => s + r * r, 0) / n;
        assertClose(output(out, "loss"), [loss], [], `train loss, step ${step}`, 1e-5);
        // d loss / d b = mean(2 r); d loss / d w = mean(2 r x): the sums BroadcastGradientArgs asks for.
        const gradB = residual.reduce((s, r) => s + 2 * r, 0) / n;
        const gradW = residual.reduce((s, r, i) => s + 2 * r * x[i]!, 0) / n;
        assertClose(await variable("w"), [w - lr * gradW], [1], `w after step ${step}`, 1e-5);
        assertClose(await variable("b"), [b - lr * gradB], [1], `b after step ${step}`, 1e-5);
        // Continue from the engine's exact float32 state, so rounding differences do not compound.
        w = await value("w");
        b = await value("b");
      }
    });
  });

  it("tft_taxi_transform_vocab serving_default: all 17 transformed features of 5 trips given as sparse tensors", async () => {
    const dir = savedModelFixture("tft_taxi_transform_vocab");
    const constants: TransformConstants = {
      // assets/: payment types (hash_table_1, initialised from asset_path_initializer_2) and companies
      // (hash_table_3, from asset_path_initializer_3).
      paymentVocab: vocabulary(join(dir, "assets/vocab_compute_and_apply_vocabulary_vocabulary")),
      companyVocab: vocabulary(join(dir, "assets/vocab_compute_and_apply_vocabulary_1_vocabulary")),
      // num_buckets of compute_and_apply_vocabulary{,_1}/apply_vocab/None_Lookup/hash_bucket.
      oovBuckets: 10,
      zScore: {
        // scale_to_z_score: Const (mean), Const_1 (variance).
        trip_miles: [3.1160099506378174, 199.5702362060547],
        // scale_to_z_score_1: Const_2, Const_3.
        fare: [12.833640098571777, 2147.596923828125],
        // scale_to_z_score_2: Const_4, Const_5.
        trip_seconds: [762.9583740234375, 1148831.625],
      },
      boundaries: {
        // bucketize/…/BoostedTreesBucketize reads Const_10.
        pickup_latitude: [
          41.85934829711914, 41.87925338745117, 41.8809928894043, 41.88529968261719, 41.89207077026367,
          41.89503479003906, 41.900264739990234, 41.92268753051758, 41.96581268310547,
        ],
        // bucketize_1: Const_11.
        pickup_longitude: [
          -87.69915771484375, -87.6570053100586, -87.646728515625, -87.63784790039062, -87.63274383544922,
          -87.63186645507812, -87.62621307373047, -87.6209945678711, -87.61886596679688,
        ],
        // bucketize_2: Const_12.
        dropoff_latitude: [
          41.833518981933594, 41.87886428833008, 41.8809928894043, 41.88528060913086, 41.89207077026367,
          41.8983039855957, 41.901206970214844, 41.922760009765625, 41.953582763671875,
        ],
        // bucketize_3: Const_13.
        dropoff_longitude: [
          -87.68751525878906, -87.65916442871094, -87.64990997314453, -87.64070129394531, -87.63274383544922,
          -87.63186645507812, -87.62621307373047, -87.6209945678711, -87.61735534667969,
        ],
      },
    };
    assert.equal(constants.paymentVocab.size, 10);
    assert.equal(constants.companyVocab.size, 150);
    const trips = [...TRIPS, { ...TRIPS[0]!, fare: Number.NaN, company: "" }];
    const batch = trips.length;
    // Input `inputs_{3k}`, `_{3k+1}`, `_{3k+2}` are feature k's SparseTensor indices, values, dense_shape.
    const inputs: Record<string, Tensor> = {};
    FEATURES.forEach(([key, kind], k) => {
      const rows = trips.flatMap((t, r) => (t[key] === undefined ? [] : [[r, t[key]] as const]));
      const name = (i: number) => (i === 0 ? "inputs" : `inputs_${i}`);
      inputs[name(3 * k)] = new Tensor(
        DataType.DT_INT64,
        [rows.length, 2],
        BigInt64Array.from(rows.flatMap(([r]) => [BigInt(r), 0n])),
      );
      const values = rows.map(([, v]) => v);
      inputs[name(3 * k + 1)] =
        kind === "string"
          ? Tensor.fromStrings([rows.length], values as string[])
          : kind === "int64"
            ? new Tensor(
                DataType.DT_INT64,
                [rows.length],
                BigInt64Array.from(values as number[], (v) => BigInt(v)),
              )
            : new Tensor(DataType.DT_FLOAT, [rows.length], Float32Array.from(values as number[]));
      inputs[name(3 * k + 2)] = new Tensor(DataType.DT_INT64, [2], BigInt64Array.from([BigInt(batch), 1n]));
    });
    assert.equal(Object.keys(inputs).length, 54);
    const expected = trips.map((t) => transform(t, constants));
    // Spot-check the reference itself on the rules it encodes.
    assert.equal(expected[0]!.company_xf, 1); // "Flash Cab" is line 1 of the company vocabulary.
    assert.equal(expected[0]!.dropoff_latitude_xf, 3); // On Const_12[2]: the upper bucket.
    assert.equal(expected[1]!.company_xf, 150 + Number(fingerprint64("Some New Cab Co") % 10n));
    assert.equal(expected[2]!.pickup_longitude_xf, 9); // A missing longitude is 0, past every boundary.
    await withServable(dir, async (servable) => {
      const out = await run(servable, "serving_default", inputs);
      assert.equal(out.size, 17);
      const ints = [
        "company_xf",
        "payment_type_xf",
        "dropoff_census_tract_xf",
        "dropoff_community_area_xf",
        "pickup_census_tract_xf",
        "pickup_community_area_xf",
        "trip_start_day_xf",
        "trip_start_hour_xf",
        "trip_start_month_xf",
        "pickup_latitude_xf",
        "pickup_longitude_xf",
        "dropoff_latitude_xf",
        "dropoff_longitude_xf",
        "tips_xf",
      ] as const;
      for (const key of ints) {
        assertInts(
          output(out, key),
          DataType.DT_INT64,
          expected.map((e) => e[key]),
          [batch],
          key,
        );
      }
      for (const key of ["fare_xf", "trip_miles_xf", "trip_seconds_xf"] as const) {
        assertClose(
          output(out, key),
          expected.map((e) => e[key]),
          [batch],
          key,
        );
      }
    });
  });

  it("estimator_taxi_tf_example: predict, classification, regression and serving_default over serialized tf.Examples", async () => {
    const dir = savedModelFixture("estimator_taxi_tf_example");
    const vars = await readVariables(await openSavedModel(dir, { tags: ["serve"] }));
    const weights = (key: string) => {
      const t = vars.get(key);
      assert.ok(t, key);
      return { shape: t.shape, data: Array.from(t.values as Float32Array) };
    };
    const constants: TransformConstants = {
      // The legacy saved_model_assets collection: asset_path:0 (payment types), asset_path_1:0 (companies).
      paymentVocab: vocabulary(join(dir, "assets/vocab_compute_and_apply_vocabulary_vocabulary")),
      companyVocab: vocabulary(join(dir, "assets/vocab_compute_and_apply_vocabulary_1_vocabulary")),
      // num_buckets of transform/transform/compute_and_apply_vocabulary{,_1}/apply_vocab/hash_table_Lookup/hash_bucket.
      oovBuckets: 10,
      zScore: {
        // transform/transform/scale_to_z_score{,_1,_2} read transform/Const … transform/Const_5.
        trip_miles: [3.1160097122192383, 199.57017517089844],
        fare: [12.833640098571777, 2147.5966796875],
        trip_seconds: [762.9583740234375, 1148831.625],
      },
      boundaries: {
        // transform/transform/bucketize{,_1,_2,_3}/quantiles sort transform/Const_10 … Const_13 (already sorted).
        pickup_latitude: [
          41.790565490722656, 41.84207534790039, 41.879066467285156, 41.8809928894043, 41.89092254638672,
          41.89250946044922, 41.899600982666016, 41.92268753051758, 41.96581268310547,
        ],
        pickup_longitude: [
          -87.7318344116211, -87.70804595947266, -87.69400024414062, -87.68102264404297, -87.67111206054688,
          -87.66126251220703, -87.65177154541016, -87.64264678955078, -87.63274383544922, -87.62621307373047,
          -87.6209945678711,
        ],
        dropoff_latitude: [
          41.790504455566406, 41.83467483520508, 41.8759651184082, 41.8809928894043, 41.89092254638672,
          41.89321517944336, 41.900264739990234, 41.92268753051758, 41.95054626464844, 42.00962448120117,
        ],
        dropoff_longitude: [
          -87.74279022216797, -87.71337127685547, -87.6967544555664, -87.68402099609375, -87.671875,
          -87.66144561767578, -87.65177154541016, -87.64264678955078, -87.63274383544922, -87.62621307373047,
          -87.6209945678711, -87.59618377685547,
        ],
      },
    };
    // The linear part: categorical_column_with_identity(key, num_buckets, default_value=0) per column,
    // num_buckets = rows of its weights; ids of -1 are dropped (ignore_value), out-of-range ids become 0,
    // a row left without ids adds nothing (embedding_lookup_sparse's empty-row handling).
    const linearColumns = [
      "company_xf",
      "payment_type_xf",
      "pickup_latitude_xf",
      "pickup_longitude_xf",
      "dropoff_latitude_xf",
      "dropoff_longitude_xf",
      "trip_start_day_xf",
      "trip_start_hour_xf",
      "trip_start_month_xf",
    ] as const;
    const linearBias = weights("linear/linear_model/bias_weights").data[0]!;
    const linearWeights = new Map(linearColumns.map((c) => [c, weights(`linear/linear_model/${c}/weights`)]));
    // The DNN part: input_layer concatenates the numeric columns sorted by name, then 4 relu layers.
    const layers = ["hiddenlayer_0", "hiddenlayer_1", "hiddenlayer_2", "hiddenlayer_3", "logits"].map(
      (l) => ({
        kernel: weights(`dnn/${l}/kernel`),
        bias: weights(`dnn/${l}/bias`).data,
      }),
    );
    const logitOf = (t: Trip): number => {
      const x = transform(t, constants);
      let linear = linearBias;
      for (const c of linearColumns) {
        const id = x[c];
        if (id === -1) continue;
        const w = linearWeights.get(c)!;
        linear += w.data[id >= 0 && id < w.shape[0]! ? id : 0]!;
      }
      let h = [x.fare_xf, x.trip_miles_xf, x.trip_seconds_xf];
      layers.forEach(({ kernel, bias }, i) => {
        const [rows, cols] = kernel.shape as [number, number];
        assert.equal(rows, h.length);
        const next = bias.slice();
        for (let j = 0; j < cols; j++)
          for (let k = 0; k < rows; k++) next[j]! += h[k]! * kernel.data[k * cols + j]!;
        h = i < layers.length - 1 ? next.map((v) => Math.max(v, 0)) : next;
      });
      return h[0]! + linear;
    };

    const bytesList = (v: string): MessageInitShape<typeof FeatureSchema> => ({
      kind: { case: "bytesList", value: { value: [new TextEncoder().encode(v)] } },
    });
    const example = (t: Trip): Uint8Array => {
      const feature: Record<string, MessageInitShape<typeof FeatureSchema>> = {};
      for (const [key, kind] of FEATURES) {
        const v = t[key];
        if (v === undefined || key === "tips") continue; // tips is the label: not a serving feature.
        feature[key] =
          kind === "string"
            ? bytesList(v as string)
            : kind === "int64"
              ? { kind: { case: "int64List", value: { value: [BigInt(v as number)] } } }
              : { kind: { case: "floatList", value: { value: [v as number] } } };
      }
      return toBinary(ExampleSchema, create(ExampleSchema, { features: { feature } }));
    };
    // Beyond TRIPS: an hour of -1 (dropped: an empty row for SparseFillEmptyRows), a month and a
    // dropoff longitude bucket past their columns' num_buckets (→ id 0), and an empty tf.Example.
    const trips: Trip[] = [
      ...TRIPS,
      { ...TRIPS[0]!, trip_start_hour: -1, trip_start_month: 12, dropoff_longitude: -87.6 },
      {},
    ];
    const expectedLogits = trips.map(logitOf);
    await withServable(dir, async (servable) => {
      for (const batch of [trips, trips.slice(4, 5)]) {
        const n = batch.length;
        const serialized = new Tensor(DataType.DT_STRING, [n], batch.map(example));
        const logits = batch.map((t) => expectedLogits[trips.indexOf(t)]!);
        const p = logits.map((z) => 1 / (1 + Math.exp(-z)));
        const classIds = logits.map((z) => (z > 0 ? 1 : 0));
        const probabilities = p.flatMap((q) => [1 - q, q]);

        const predict = await run(servable, "predict", { examples: serialized });
        assertClose(output(predict, "logits"), logits, [n, 1], "predict logits", 1e-5);
        assertClose(output(predict, "logistic"), p, [n, 1], "predict logistic", 1e-5);
        assertClose(output(predict, "probabilities"), probabilities, [n, 2], "predict probabilities", 1e-5);
        assertInts(output(predict, "class_ids"), DataType.DT_INT64, classIds, [n, 1], "predict class_ids");
        assertStrings(output(predict, "classes"), classIds.map(String), [n, 1], "predict classes");
        assertInts(
          output(predict, "all_class_ids"),
          DataType.DT_INT32,
          batch.flatMap(() => [0, 1]),
          [n, 2],
          "all_class_ids",
        );
        assertStrings(
          output(predict, "all_classes"),
          batch.flatMap(() => ["0", "1"]),
          [n, 2],
          "all_classes",
        );

        for (const key of ["classification", "serving_default"]) {
          const out = await run(servable, key, { inputs: serialized });
          assertStrings(
            output(out, "classes"),
            batch.flatMap(() => ["0", "1"]),
            [n, 2],
            `${key} classes`,
          );
          assertClose(output(out, "scores"), probabilities, [n, 2], `${key} scores`, 1e-5);
        }
        const regression = await run(servable, "regression", { inputs: serialized });
        assertClose(output(regression, "outputs"), p, [n, 1], "regression outputs", 1e-5);
      }
    });
  });
});
