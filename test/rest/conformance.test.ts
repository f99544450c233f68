// TF Serving's REST API, end to end: a real server on 127.0.0.1 (ServerCore + startRestServer in
// process, and the real CLI as a child process), real HTTP through node's fetch, TF Serving's own test
// models. Expected bodies are TF Serving's (TF_SERVING_API.md §1, json_tensor.cc, the fixtures'
// expected metadata JSON).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { writeScaleModel } from "../../src/core/core.test-helpers.js";
import type { ServerCore } from "../../src/core/server-core.js";
import { needsFixtures, SAVEDMODEL_FIXTURES, TFSERVING_FIXTURES } from "../fixtures.js";
import { useScratchDir } from "../scratch.js";
import {
  configText,
  errorText,
  http,
  linkModel,
  modelEntry,
  parseTfJson,
  post,
  type RestServer,
  startCli,
  startCore,
  startRest,
  type TfJson,
  writeStringModel,
} from "./helpers.js";

const HALF_PLUS_TWO = join(TFSERVING_FIXTURES, "saved_model_half_plus_two_cpu");
const TWO_VERSIONS = join(TFSERVING_FIXTURES, "saved_model_half_plus_two_2_versions");
const TF2 = join(TFSERVING_FIXTURES, "saved_model_half_plus_two_tf2_cpu");
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, GET",
  "access-control-allow-headers": "Content-Type",
};

/** A TF status entry for one version. */
const available = (version: string) => ({
  version,
  state: "AVAILABLE",
  status: { error_code: "OK", error_message: "" },
});

type Json = { [key: string]: TfJson };
const asObject = (value: TfJson): Json => {
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), "a JSON object");
  return value as Json;
};

describe("REST conformance: in-process server", needsFixtures, () => {
  let core: ServerCore | undefined;
  let rest: RestServer; // CORS on
  let plain: RestServer; // CORS off, same core
  after(async () => {
    await rest?.close();
    await plain?.close();
    await core?.stop();
  });
  const scratch = useScratchDir("rest-conformance");
  before(async () => {
    const root = scratch("models");
    await writeStringModel(join(root, "strings", "1"));
    await writeScaleModel(join(root, "scaled", "2"), 2);
    await writeScaleModel(join(root, "scaled", "3"), 3);
    core = await startCore({
      config: configText(
        modelEntry("half_plus_two", HALF_PLUS_TWO),
        modelEntry(
          "two",
          TWO_VERSIONS,
          'model_version_policy { all {} } version_labels { key: "stable" value: 123 } version_labels { key: "canary" value: 124 }',
        ),
        modelEntry(
          "scaled",
          join(root, "scaled"),
          'model_version_policy { all {} } version_labels { key: "stable" value: 2 } version_labels { key: "canary" value: 3 }',
        ),
        modelEntry("tf2", TF2),
        modelEntry(
          "dtypes",
          await linkModel(root, "dtypes", join(SAVEDMODEL_FIXTURES, "tf1_dtype_identity")),
        ),
        modelEntry(
          "split",
          await linkModel(root, "split", join(SAVEDMODEL_FIXTURES, "tf1_string_split_join")),
        ),
        modelEntry(
          "multi",
          await linkModel(root, "multi", join(SAVEDMODEL_FIXTURES, "tfjs_multi_input_multi_output")),
        ),
        modelEntry("strings", join(root, "strings")),
      ),
    });
    rest = await startRest({ backend: core, enableCors: true });
    plain = await startRest({ backend: core });
  });

  describe("predict", () => {
    it("half_plus_two {instances: [1.0, 2.0, 5.0]} → exactly {predictions: [2.5, 3.0, 4.5]}, in TF's pretty layout", async () => {
      const reply = await post(
        rest.base,
        "/v1/models/half_plus_two:predict",
        '{"instances": [1.0, 2.0, 5.0]}',
      );
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get("content-type"), "application/json");
      assert.deepEqual(reply.json(), { predictions: [2.5, 3.0, 4.5] });
      // rapidjson PrettyWriter with kFormatSingleLineArray, as `curl` shows it against tensorflow_model_server.
      assert.equal(reply.text, '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
    });

    it("row format: unnamed rows, named rows (objects keyed by the input), nested rows", async () => {
      const path = "/v1/models/half_plus_two:predict";
      const unnamed = await post(rest.base, path, '{"instances": [[1.0], [2.0], [5.0]]}');
      assert.deepEqual(unnamed.json(), { predictions: [[2.5], [3.0], [4.5]] });
      const named = await post(rest.base, path, '{"instances": [{"x": [1.0]}, {"x": [2.0]}]}');
      assert.deepEqual(named.json(), { predictions: [[2.5], [3.0]] });
      const namedScalars = await post(rest.base, path, '{"instances": [{"x": 1.0}, {"x": 5.0}]}');
      assert.deepEqual(namedScalars.json(), { predictions: [2.5, 4.5] });
      // Other top-level keys are ignored; integers are fine for a float input.
      const extra = await post(rest.base, path, '{"instances": [1, 2], "foo": {"bar": []}}');
      assert.deepEqual(extra.json(), { predictions: [2.5, 3.0] });
    });

    it("columnar format: inputs → outputs, named or not, a bare scalar as a rank-0 tensor", async () => {
      const path = "/v1/models/half_plus_two:predict";
      const plainList = await post(rest.base, path, '{"inputs": [1.0, 2.0, 5.0]}');
      assert.deepEqual(plainList.json(), { outputs: [2.5, 3.0, 4.5] });
      assert.equal(plainList.text, '{\n    "outputs": [\n        2.5,\n        3.0,\n        4.5\n    ]\n}');
      const named = await post(rest.base, path, '{"inputs": {"x": [[1.0], [2.0], [5.0]]}}');
      assert.deepEqual(named.json(), { outputs: [[2.5], [3.0], [4.5]] });
      const scalar = await post(rest.base, path, '{"inputs": 3.0}');
      assert.deepEqual(scalar.json(), { outputs: 3.5 });
      // Unknown extra names in a columnar object are ignored, as TF Serving does.
      const extra = await post(rest.base, path, '{"inputs": {"x": [[1.0]], "unused": "x"}}');
      assert.deepEqual(extra.json(), { outputs: [[2.5]] });
    });

    it("signature_name picks the signature; empty or absent means serving_default", async () => {
      const path = "/v1/models/half_plus_two:predict";
      const y3 = await post(
        rest.base,
        path,
        '{"signature_name": "regress_x2_to_y3", "inputs": {"inputs": [[1.0], [2.0]]}}',
      );
      assert.deepEqual(y3.json(), { outputs: [[3.5], [4.0]] });
      const rows = await post(
        rest.base,
        path,
        '{"signature_name": "regress_x2_to_y3", "instances": [[1.0]]}',
      );
      assert.deepEqual(rows.json(), { predictions: [[3.5]] });
      for (const sig of ['"serving_default"', '""']) {
        const reply = await post(rest.base, path, `{"signature_name": ${sig}, "instances": [1.0]}`);
        assert.deepEqual(reply.json(), { predictions: [2.5] }, sig);
      }
    });

    it("multi-input, multi-output: one object per row; columnar outputs keyed by name; int32 stays integer", async () => {
      const path = "/v1/models/multi:predict"; // f(x, y) = [x * 2, y], int32
      const rows = await post(rest.base, path, '{"instances": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}');
      assert.equal(rows.status, 200);
      assert.deepEqual(rows.json(), {
        predictions: [
          { output_0: 2, output_1: 2 },
          { output_0: 6, output_1: 4 },
        ],
      });
      assert.match(rows.text, /"output_0": 2,\n/);
      const columns = await post(rest.base, path, '{"inputs": {"x": [1, 3], "y": [2, 4]}}');
      assert.deepEqual(columns.json(), { outputs: { output_0: [2, 6], output_1: [2, 4] } });
      const scalars = await post(rest.base, path, '{"inputs": {"x": 5, "y": 6}}');
      assert.deepEqual(scalars.json(), { outputs: { output_0: 10, output_1: 6 } });
      // Columnar tensors may have different leading dimensions.
      const ragged = await post(rest.base, path, '{"inputs": {"x": [1, 2], "y": [7]}}');
      assert.deepEqual(ragged.json(), { outputs: { output_0: [2, 4], output_1: [7] } });
    });

    it("DT_STRING: b64 objects in; `_bytes` outputs come back as {b64}, others as strings", async () => {
      const path = "/v1/models/strings:predict";
      const rows = await post(rest.base, path, '{"instances": [{"b64": "aGVsbG8="}, "wörld", ""]}');
      assert.equal(rows.status, 200);
      assert.deepEqual(rows.json(), {
        predictions: [
          { text_bytes: { b64: "aGVsbG8=" }, text_out: "hello" },
          { text_bytes: { b64: Buffer.from("wörld").toString("base64") }, text_out: "wörld" },
          { text_bytes: { b64: "" }, text_out: "" },
        ],
      });
      const columns = await post(rest.base, path, '{"inputs": {"text": ["a", {"b64": "Yg=="}]}}');
      assert.deepEqual(columns.json(), {
        outputs: { text_bytes: [{ b64: "YQ==" }, { b64: "Yg==" }], text_out: ["a", "b"] },
      });
      // A lone b64 object as the columnar value is the single input (a rank-0 tensor), not a name map.
      const lone = await post(rest.base, path, '{"inputs": {"b64": "eHl6"}}');
      assert.equal(lone.status, 200, lone.text);
      assert.deepEqual(lone.json(), { outputs: { text_bytes: { b64: "eHl6" }, text_out: "xyz" } });
    });

    it("real TF string model (tf1_string_split_join): b64 and plain strings in, string outputs", async () => {
      const reply = await post(
        rest.base,
        "/v1/models/split:predict",
        '{"instances": [{"A": ["a", {"b64": "w6k="}], "B": "x/y//z"}]}',
      );
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.json(), {
        predictions: [{ Joined_Splited_Text: ["x y z"], Original_A: ["a", "é"] }],
      });
      const columns = await post(
        rest.base,
        "/v1/models/split:predict",
        '{"inputs": {"A": [["a", "b"], ["c", "d"]], "B": ["p/q", "r"]}}',
      );
      assert.deepEqual(columns.json(), {
        outputs: {
          Joined_Splited_Text: [["p q r"]],
          Original_A: [
            ["a", "b"],
            ["c", "d"],
          ],
        },
      });
    });

    it("NaN and ±Infinity: accepted as bare tokens, written back as bare tokens", async () => {
      const reply = await post(
        rest.base,
        "/v1/models/half_plus_two:predict",
        '{"instances": [NaN, Infinity, -Infinity, 1e-45]}',
      );
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, '{\n    "predictions": [NaN, Infinity, -Infinity, 2.0\n    ]\n}');
      const parsed = asObject(reply.json()).predictions as number[];
      assert.ok(Number.isNaN(parsed[0]));
      assert.deepEqual(parsed.slice(1), [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2]);
    });

    it("every dtype of tf1_dtype_identity round-trips; int64/uint64 exact beyond 2^53 both ways", async () => {
      const body =
        '{"inputs": {"b": [[true, false]], "f32": [[NaN, 0.1]], "f64": [[-Infinity, 0.1]],' +
        ' "i8": [[-128, 127]], "u8": [[-128, 127]], "i16": [[-32768, 32767]], "u16": [[-32768, 32767]],' +
        ' "i32": [[-2147483648, 2147483647]], "u32": [[-2147483648, 2147483647]],' +
        ' "i64": [[-9223372036854775808, 9223372036854775807]],' +
        ' "u64": [[18446744073709551615, 9007199254740993]]}}';
      const reply = await post(rest.base, "/v1/models/dtypes:predict", body);
      assert.equal(reply.status, 200, reply.text);
      const out = asObject(asObject(reply.json()).outputs as TfJson);
      assert.deepEqual(out.o_b, [[true, false]]);
      assert.ok(Number.isNaN((out.o_f32 as number[][])[0]?.[0]));
      assert.deepEqual((out.o_f32 as number[][])[0]?.[1], 0.1); // float32 0.1 is written "0.1", not 0.100000001
      assert.deepEqual(out.o_f64, [[Number.NEGATIVE_INFINITY, 0.1]]);
      assert.deepEqual(out.o_i8, [[-128, 127]]);
      assert.deepEqual(out.o_u8, [[-128, 127]]);
      assert.deepEqual(out.o_i16, [[-32768, 32767]]);
      assert.deepEqual(out.o_i32, [[-2147483648, 2147483647]]);
      assert.deepEqual(out.o_i64, [[-(2n ** 63n), 2n ** 63n - 1n]]);
      assert.deepEqual(out.o_u64, [[2n ** 64n - 1n, 2n ** 53n + 1n]]);
      // The digits on the wire, as JSON numbers (not strings).
      assert.match(reply.text, /-9223372036854775808,\n\s+9223372036854775807\n/);
      assert.match(reply.text, /18446744073709551615,\n\s+9007199254740993\n/);

      const rows = await post(
        rest.base,
        "/v1/models/dtypes:predict",
        '{"instances": [{"b": [true, true], "f32": [1, 2], "f64": [3, 4], "i8": [1, 2], "u8": [1, 2],' +
          ' "i16": [1, 2], "u16": [1, 2], "i32": [1, 2], "u32": [1, 2],' +
          ' "i64": [9007199254740993, -9007199254740993], "u64": [0, 12345678901234567890]}]}',
      );
      assert.equal(rows.status, 200, rows.text);
      const row = asObject((asObject(rows.json()).predictions as TfJson[])[0] ?? null);
      assert.deepEqual(row.o_i64, [2n ** 53n + 1n, -(2n ** 53n) - 1n]);
      assert.deepEqual(row.o_u64, [0, 12345678901234567890n]);
      assert.deepEqual(row.o_f32, [1, 2]);
      assert.match(rows.text, /"o_f32": \[1\.0, 2\.0\]/);
    });
  });

  describe("classify and regress", () => {
    it('classify_x_to_y {"examples": [{"x": 1.0}]} → {"results": [[["", 2.5]]]}', async () => {
      const reply = await post(
        rest.base,
        "/v1/models/half_plus_two:classify",
        '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}',
      );
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.json(), { results: [[["", 2.5]]] });
      assert.equal(reply.text, '{\n    "results": [[["", 2.5]]\n    ]\n}');
      const two = await post(
        rest.base,
        "/v1/models/half_plus_two:classify",
        '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}, {"x": [5.0]}]}',
      );
      assert.deepEqual(two.json(), { results: [[["", 2.5]], [["", 4.5]]] });
    });

    it("regress: results per example; context features merge under each example's own", async () => {
      const path = "/v1/models/half_plus_two:regress";
      const plainReply = await post(
        rest.base,
        path,
        '{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}',
      );
      assert.deepEqual(plainReply.json(), { results: [2.5] });
      const withContext = await post(
        rest.base,
        path,
        '{"signature_name": "regress_x_to_y", "context": {"x": 3.0}, "examples": [{"y": 1.0}, {"x": 1.0}]}',
      );
      assert.equal(withContext.status, 200, withContext.text);
      assert.deepEqual(withContext.json(), { results: [3.5, 2.5] });
      const y2 = await post(
        rest.base,
        path,
        '{"signature_name": "regress_x_to_y2", "examples": [{"x": 4.0}]}',
      );
      assert.deepEqual(y2.json(), { results: [5.0] });
      assert.equal(y2.text, '{\n    "results": [5.0]\n}');
    });

    it("classify and regress through versions/N and labels/L", async () => {
      const body = '{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}';
      for (const route of ["versions/123", "versions/124", "labels/stable", "labels/canary"]) {
        const reply = await post(rest.base, `/v1/models/two/${route}:regress`, body);
        assert.deepEqual(reply.json(), { results: [2.5] }, route);
      }
      const classify = await post(
        rest.base,
        "/v1/models/two/labels/stable:classify",
        '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}',
      );
      assert.deepEqual(classify.json(), { results: [[["", 3.0]]] });
    });
  });

  describe("versions and labels", () => {
    it("predict routes to versions/N and labels/L; no selector means the highest version", async () => {
      const body = '{"instances": [[1.0, 2.0, 3.0, 4.0]]}';
      const expect: [string, number][] = [
        ["/v1/models/scaled:predict", 3],
        ["/v1/models/scaled/versions/2:predict", 2],
        ["/v1/models/scaled/versions/3:predict", 3],
        ["/v1/models/scaled/labels/stable:predict", 2],
        ["/v1/models/scaled/labels/canary:predict", 3],
        ["/V1/Models/scaled/Versions/2:predict", 2], // path patterns are case-insensitive
      ];
      for (const [path, scale] of expect) {
        const reply = await post(rest.base, path, body);
        assert.equal(reply.status, 200, `${path}: ${reply.text}`);
        assert.deepEqual(reply.json(), { predictions: [[1, 2, 3, 4].map((x) => x * scale)] }, path);
      }
      for (const route of ["versions/123", "versions/124", "labels/stable", "labels/canary"]) {
        const reply = await post(
          rest.base,
          `/v1/models/two/${route}:predict`,
          '{"instances": [1.0, 2.0, 5.0]}',
        );
        assert.deepEqual(reply.json(), { predictions: [2.5, 3.0, 4.5] }, route);
      }
    });

    it("status JSON: all versions highest first, one version, and a label (ignored, as TF)", async () => {
      const all = await http(rest.base, "/v1/models/two");
      assert.equal(all.status, 200);
      assert.equal(all.headers.get("content-type"), "application/json");
      assert.deepEqual(all.json(), { model_version_status: [available("124"), available("123")] });
      const one = await http(rest.base, "/v1/models/two/versions/123");
      assert.deepEqual(one.json(), { model_version_status: [available("123")] });
      const label = await http(rest.base, "/v1/models/two/labels/stable");
      assert.deepEqual(label.json(), all.json());
      const unknownLabel = await http(rest.base, "/v1/models/two/labels/no_such_label");
      assert.deepEqual(unknownLabel.json(), all.json());
      // protobuf's JSON printer layout (one-space indent), version as a string.
      assert.match(
        one.text,
        /^\{\n "model_version_status": \[\n {2}\{\n {3}"version": "123",\n {3}"state": "AVAILABLE",/,
      );
      const single = await http(rest.base, "/v1/models/half_plus_two");
      assert.deepEqual(single.json(), { model_version_status: [available("123")] });
    });
  });

  describe("metadata", () => {
    type SignatureJson = Record<string, { defaults?: unknown }>;
    const withoutDefaults = (signatures: SignatureJson): SignatureJson =>
      Object.fromEntries(Object.entries(signatures).map(([key, { defaults: _, ...rest }]) => [key, rest]));

    async function expectedMetadata(file: string): Promise<Json> {
      return JSON.parse(await readFile(join(TFSERVING_FIXTURES, file), "utf8")) as Json;
    }

    it("equals TF Serving's expected metadata JSON (half_plus_two, 2_versions by version and by label)", async () => {
      const cases: [path: string, file: string, model: string, version: string][] = [
        ["/v1/models/half_plus_two/metadata", "half_plus_two_model_metadata.json", "half_plus_two", "123"],
        [
          "/v1/models/two/versions/123/metadata",
          "saved_model_half_plus_two_2_versions_metadata.json",
          "two",
          "123",
        ],
        [
          "/v1/models/two/labels/stable/metadata",
          "saved_model_half_plus_two_2_versions_metadata.json",
          "two",
          "123",
        ],
      ];
      for (const [path, file, model, version] of cases) {
        const reply = await http(rest.base, path);
        assert.equal(reply.status, 200, `${path}: ${reply.text}`);
        assert.equal(reply.headers.get("content-type"), "application/json");
        const actual = JSON.parse(reply.text) as Json;
        const expected = await expectedMetadata(file);
        assert.deepEqual(actual.model_spec, { ...(expected.model_spec as Json), name: model, version }, path);
        assert.deepEqual(actual.metadata, expected.metadata, path);
      }
    });

    it("reports the resolved version for a label or no selector", async () => {
      for (const [path, version] of [
        ["/v1/models/two/metadata", "124"],
        ["/v1/models/two/labels/canary/metadata", "124"],
        ["/v1/models/two/versions/124/metadata", "124"],
      ] as const) {
        const spec = asObject(asObject(parseTfJson((await http(rest.base, path)).text)).model_spec ?? null);
        assert.deepEqual(spec, { name: "two", signature_name: "", version }, path);
      }
    });

    type MetadataJson = { model_spec: Json; metadata: { signature_def: { signature_def: SignatureJson } } };
    const tf2 = async (): Promise<{ actual: MetadataJson; expected: MetadataJson }> => {
      const reply = await http(rest.base, "/v1/models/tf2/metadata");
      assert.equal(reply.status, 200, reply.text);
      const expected = await expectedMetadata("saved_model_half_plus_two_tf2_2_versions_metadata.json");
      return {
        actual: JSON.parse(reply.text) as MetadataJson,
        expected: expected as unknown as MetadataJson,
      };
    };
    const INIT_OP = "__saved_model_init_op";
    const without = (signatures: SignatureJson, key: string): SignatureJson =>
      Object.fromEntries(Object.entries(signatures).filter(([k]) => k !== key));

    it("TF2 fixture: equal except `defaults`, which the expected JSON predates (the model stores x = 0)", async () => {
      const { actual, expected } = await tf2();
      assert.deepEqual(actual.model_spec, { ...expected.model_spec, name: "tf2", version: "123" });
      const actualSigs = actual.metadata.signature_def.signature_def;
      const expectedSigs = expected.metadata.signature_def.signature_def;
      // __saved_model_init_op is checked in the next test.
      assert.deepEqual(
        withoutDefaults(without(actualSigs, INIT_OP)),
        withoutDefaults(without(expectedSigs, INIT_OP)),
      );
      const defaults = actualSigs.serving_default?.defaults as Record<string, { float_val: number[] }>;
      assert.deepEqual(defaults.x?.float_val, [0]);
    });

    it("TF2 fixture: lists the __saved_model_init_op signature, as TF Serving's GetModelMetadata does", async () => {
      const { actual, expected } = await tf2();
      // The expected file predates SignatureDef.defaults (it has no `defaults` key here); ours prints
      // the empty map, as the proto JSON printer with always-print-fields does.
      const { defaults, ...initOp } = actual.metadata.signature_def.signature_def[INIT_OP] ?? {};
      assert.deepEqual(defaults, {});
      assert.deepEqual(initOp, expected.metadata.signature_def.signature_def[INIT_OP]);
    });
  });

  describe("HTTP layer", () => {
    it("CORS: the three headers on every /v1 reply when enabled (errors too), none when not", async () => {
      const replies = [
        await post(rest.base, "/v1/models/half_plus_two:predict", '{"instances": [1.0]}'),
        await http(rest.base, "/v1/models/half_plus_two"),
        await http(rest.base, "/v1/models/nope"),
        await post(rest.base, "/v1/models/half_plus_two:predict", "{"),
      ];
      for (const reply of replies) {
        for (const [name, value] of Object.entries(CORS)) assert.equal(reply.headers.get(name), value, name);
      }
      const off = await post(plain.base, "/v1/models/half_plus_two:predict", '{"instances": [1.0]}');
      assert.equal(off.status, 200);
      for (const name of Object.keys(CORS)) assert.equal(off.headers.get(name), null, name);
    });

    it("OPTIONS preflight: 200 with an empty body for an http(s) Origin, 400 without; CORS flag or not", async () => {
      const preflight = (base: string, origin?: string) =>
        http(base, "/v1/models/half_plus_two:predict", {
          method: "OPTIONS",
          headers: {
            "access-control-request-method": "POST",
            ...(origin === undefined ? {} : { origin }),
          },
        });
      const ok = await preflight(rest.base, "http://localhost:3000");
      assert.equal(ok.status, 200);
      assert.equal(ok.text, "");
      for (const [name, value] of Object.entries(CORS)) assert.equal(ok.headers.get(name), value, name);
      assert.equal((await preflight(rest.base, "https://example.com")).status, 200);
      const noOrigin = await preflight(rest.base);
      assert.equal(noOrigin.status, 400);
      assert.equal(noOrigin.text, "");
      assert.equal((await preflight(rest.base, "file://x")).status, 400);
      const withoutFlag = await preflight(plain.base, "http://localhost:3000");
      assert.equal(withoutFlag.status, 200);
      assert.equal(withoutFlag.headers.get("access-control-allow-origin"), null);
      // Any /v1/ path, even one that names no route.
      assert.equal(
        (await http(rest.base, "/v1/anything", { method: "OPTIONS", headers: { origin: "http://a" } }))
          .status,
        200,
      );
    });

    it("gzip request bodies are inflated (Content-Encoding containing gzip)", async () => {
      const body = gzipSync(Buffer.from('{"instances": [1.0, 2.0, 5.0]}'));
      for (const encoding of ["gzip", "x-gzip"]) {
        const reply = await http(rest.base, "/v1/models/half_plus_two:predict", {
          method: "POST",
          body: new Uint8Array(body),
          headers: { "content-encoding": encoding, "content-type": "application/json" },
        });
        assert.equal(reply.status, 200, reply.text);
        assert.deepEqual(reply.json(), { predictions: [2.5, 3.0, 4.5] });
      }
      const classify = await http(rest.base, "/v1/models/half_plus_two:classify", {
        method: "POST",
        body: new Uint8Array(gzipSync('{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}')),
        headers: { "content-encoding": "gzip" },
      });
      assert.deepEqual(classify.json(), { results: [[["", 2.5]]] });
    });

    it("paths outside /v1/ get the web server's HTML 404, not JSON and without CORS headers", async () => {
      for (const path of ["/", "/v2/models/half_plus_two", "/models/half_plus_two:predict", "/v1"]) {
        for (const method of ["GET", "POST"]) {
          const reply = await http(rest.base, path, { method, ...(method === "POST" ? { body: "{}" } : {}) });
          assert.equal(reply.status, 404, `${method} ${path}`);
          assert.equal(reply.headers.get("content-type"), "text/html");
          assert.match(reply.text, /^<html><head><title>404 Not Found<\/title>/);
          assert.match(reply.text, /The requested URL .* was not found on this server/);
          assert.equal(reply.headers.get("access-control-allow-origin"), null);
        }
      }
      // The /v1/ filter is case-insensitive.
      assert.equal((await http(rest.base, "/V1/MODELS/half_plus_two")).status, 200);
    });

    it("keep-alive: many requests on one connection, in parallel, all answered correctly", async () => {
      const replies = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          post(rest.base, "/v1/models/half_plus_two:predict", `{"instances": [${i}.0]}`),
        ),
      );
      for (const [i, reply] of replies.entries())
        assert.deepEqual(reply.json(), { predictions: [i * 0.5 + 2] });
    });
  });
});

describe("REST conformance: the real CLI process", needsFixtures, () => {
  it("serves half_plus_two on --rest_api_port: predict text as TF, status, metadata, CORS flag, clean SIGTERM", async () => {
    const cli = await startCli([
      "--model_name=half_plus_two",
      `--model_base_path=${HALF_PLUS_TWO}`,
      "--rest_api_enable_cors_support=true",
    ]);
    try {
      const reply = await post(
        cli.base,
        "/v1/models/half_plus_two:predict",
        '{"instances": [1.0, 2.0, 5.0]}',
      );
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
      assert.equal(reply.headers.get("access-control-allow-origin"), "*");
      const status = await http(cli.base, "/v1/models/half_plus_two");
      assert.deepEqual(status.json(), { model_version_status: [available("123")] });
      const metadata = JSON.parse((await http(cli.base, "/v1/models/half_plus_two/metadata")).text) as Json;
      const expected = JSON.parse(
        await readFile(join(TFSERVING_FIXTURES, "half_plus_two_model_metadata.json"), "utf8"),
      ) as Json;
      assert.deepEqual(metadata.metadata, expected.metadata);
      const missing = await post(cli.base, "/v1/models/other:predict", '{"instances": [1.0]}');
      assert.equal(missing.status, 404);
      assert.equal(errorText(missing), "Servable not found for request: Latest(other)");
      assert.equal((await http(cli.base, "/")).status, 404);
    } finally {
      const code = await cli.stop();
      assert.equal(code, 0, cli.output());
    }
  });
});
