// Regression suite for how ts-serving reads and writes protobuf text format
// (TF Serving config files, saved_model.pbtxt) through @bufbuild/protobuf/txtpb.
//
// Where @bufbuild/protobuf's text format differs from ts-serving's former
// home-made parser, these tests assert the library's behaviour:
// - A singular field (scalar or message) named twice is an error, as in C++
//   TextFormat ("non-repeated field "i32" is repeated"); it was last-wins/merge.
// - Two members of one oneof are an error ("oneof "choice" is already set"); it was last-wins.
// - Errors carry no line:col. Only `unknown field "X"` gets a " (line N)" hint, and only
//   when X is declared nowhere in the schema and used as `X:`/`X {`/`X <` outside a comment.
// - Error wording: e.g. `unknown field "x" for message T`, out-of-range integers read
//   "cannot decode field T.f from text format: ...", `u32: -1` reads "an unsigned field
//   does not accept a negative value".
// - A UTF-16 surrogate pair spelled as two escapes (\uD83D\uDE00) is rejected; write
//   \U0001F600 or the character itself.
// - Printing: `name: {` blocks, `name: {}` for an empty message, map entries in insertion
//   order (were sorted by key), non-printable bytes as \xHH (were C octal/\a), `'` unescaped.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  create,
  createFileRegistry,
  createRegistry,
  type DescMessage,
  equals,
  fromBinary,
  type MessageShape,
  type Registry,
  toBinary,
} from "@bufbuild/protobuf";
import {
  anyPack,
  anyUnpack,
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import { needsFixtures, SAVEDMODEL_FIXTURES, TFSERVING_FIXTURES } from "../../test/fixtures.js";
import { Code, ServingError } from "../errors.js";
import { TensorProtoSchema } from "./gen/tensorflow/core/framework/tensor_pb.js";
import { DataType } from "./gen/tensorflow/core/framework/types_pb.js";
import { SavedModelSchema } from "./gen/tensorflow/core/protobuf/saved_model_pb.js";
import { ModelServerConfigSchema } from "./gen/tensorflow_serving/config/model_server_config_pb.js";
import { MonitoringConfigSchema } from "./gen/tensorflow_serving/config/monitoring_config_pb.js";
import { PlatformConfigMapSchema } from "./gen/tensorflow_serving/config/platform_config_pb.js";
import { SSLConfigSchema } from "./gen/tensorflow_serving/config/ssl_config_pb.js";
import {
  BatchingParametersSchema,
  SavedModelBundleSourceAdapterConfigSchema,
} from "./gen/tensorflow_serving/servables/tensorflow/session_bundle_config_pb.js";
import { parseTextProto, printTextProto } from "./text-format.js";

// A test schema with every scalar type, map key kinds, a oneof and a reserved name,
// which the TF protos do not all have: proto3 `tftest.AllTypes`, and proto2
// `tftest2.Legacy` for a closed enum.
const scalarTypes = [
  ["i32", Type.INT32],
  ["i64", Type.INT64],
  ["u32", Type.UINT32],
  ["u64", Type.UINT64],
  ["s32", Type.SINT32],
  ["s64", Type.SINT64],
  ["f32", Type.FIXED32],
  ["f64", Type.FIXED64],
  ["sf32", Type.SFIXED32],
  ["sf64", Type.SFIXED64],
  ["flt", Type.FLOAT],
  ["dbl", Type.DOUBLE],
  ["b", Type.BOOL],
  ["str", Type.STRING],
  ["byt", Type.BYTES],
] as const;

const ALL = ".tftest.AllTypes";
const mapEntry = (name: string, keyType: Type, valueType: Type, valueTypeName = "") => ({
  name,
  field: [
    { name: "key", number: 1, label: Label.OPTIONAL, type: keyType },
    { name: "value", number: 2, label: Label.OPTIONAL, type: valueType, typeName: valueTypeName },
  ],
  options: { mapEntry: true },
});
const repeated = (name: string, number: number, type: Type, typeName = "") => ({
  name,
  number,
  label: Label.REPEATED,
  type,
  typeName,
});

const testFile = create(FileDescriptorProtoSchema, {
  name: "tftest.proto",
  package: "tftest",
  syntax: "proto3",
  enumType: [
    {
      name: "Color",
      value: [
        { name: "COLOR_UNSPECIFIED", number: 0 },
        { name: "RED", number: 1 },
        { name: "GREEN", number: 2 },
      ],
    },
  ],
  messageType: [
    {
      name: "AllTypes",
      field: [
        ...scalarTypes.map(([name, type], i) => ({ name, number: i + 1, label: Label.OPTIONAL, type })),
        { name: "color", number: 16, label: Label.OPTIONAL, type: Type.ENUM, typeName: ".tftest.Color" },
        repeated("ints", 17, Type.INT32),
        repeated("strs", 18, Type.STRING),
        repeated("colors", 19, Type.ENUM, ".tftest.Color"),
        repeated("children", 20, Type.MESSAGE, ALL),
        repeated("by_id", 21, Type.MESSAGE, `${ALL}.ByIdEntry`),
        repeated("by_flag", 22, Type.MESSAGE, `${ALL}.ByFlagEntry`),
        repeated("by_name", 23, Type.MESSAGE, `${ALL}.ByNameEntry`),
        repeated("color_by_name", 24, Type.MESSAGE, `${ALL}.ColorByNameEntry`),
        { name: "choice_name", number: 25, label: Label.OPTIONAL, type: Type.STRING, oneofIndex: 0 },
        { name: "choice_number", number: 26, label: Label.OPTIONAL, type: Type.INT32, oneofIndex: 0 },
        {
          name: "choice_child",
          number: 27,
          label: Label.OPTIONAL,
          type: Type.MESSAGE,
          typeName: ALL,
          oneofIndex: 0,
        },
        { name: "child", number: 28, label: Label.OPTIONAL, type: Type.MESSAGE, typeName: ALL },
      ],
      nestedType: [
        mapEntry("ByIdEntry", Type.INT64, Type.STRING),
        mapEntry("ByFlagEntry", Type.BOOL, Type.INT32),
        mapEntry("ByNameEntry", Type.STRING, Type.MESSAGE, ALL),
        mapEntry("ColorByNameEntry", Type.STRING, Type.ENUM, ".tftest.Color"),
      ],
      oneofDecl: [{ name: "choice" }],
      reservedName: ["old_name"],
      reservedRange: [{ start: 100, end: 101 }],
    },
  ],
});
const legacyFile = create(FileDescriptorProtoSchema, {
  name: "tftest2.proto",
  package: "tftest2",
  syntax: "proto2",
  enumType: [
    {
      name: "Closed",
      value: [
        { name: "ONE", number: 1 },
        { name: "TWO", number: 2 },
      ],
    },
  ],
  messageType: [
    {
      name: "Legacy",
      field: [
        { name: "closed", number: 1, label: Label.OPTIONAL, type: Type.ENUM, typeName: ".tftest2.Closed" },
      ],
    },
  ],
});
const testRegistry = createFileRegistry(
  createFileRegistry(testFile, () => undefined),
  createFileRegistry(legacyFile, () => undefined),
);

function messageType(
  registry: { getMessage(name: string): DescMessage | undefined },
  name: string,
): DescMessage {
  const desc = registry.getMessage(name);
  assert.ok(desc, `test schema ${name} is missing`);
  return desc;
}
const AllTypesSchema = messageType(testRegistry, "tftest.AllTypes");
const LegacySchema = messageType(testRegistry, "tftest2.Legacy");

/** Parses AllTypes and returns it as a plain record, to read fields by their local names. */
function parseAll(text: string): Record<string, unknown> {
  return parseTextProto(AllTypesSchema, text) as unknown as Record<string, unknown>;
}

/**
 * Asserts that parsing `text` fails with INVALID_ARGUMENT and exactly the one-line
 * `message` ("<source>: <problem>", source defaulting to "text proto").
 */
function assertParseError(
  schema: DescMessage,
  text: string,
  message: string,
  source?: string,
  registry?: Registry,
): void {
  assert.throws(
    () => parseTextProto(schema, text, source, registry),
    (error: unknown) => {
      assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.equal(error.message, message);
      assert.ok(message.startsWith(`${source ?? "text proto"}: `));
      assert.ok(!message.includes("\n"), "the message is one line");
      return true;
    },
  );
}

/** print → parse gives back the same message, compared both by protobuf equality and structurally. */
function assertRoundTrip<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  registry?: Registry,
): string {
  const text = printTextProto(schema, message, registry);
  const parsed = parseTextProto(schema, text, "round trip", registry);
  assert.deepStrictEqual(parsed, message, `round trip changed the message; printed:\n${text}`);
  return text;
}

const fixture = (name: string): string => readFileSync(join(TFSERVING_FIXTURES, name), "utf8");

describe("parseTextProto: TF Serving config files", () => {
  it("reads good_model_config.txt", needsFixtures, () => {
    const config = parseTextProto(ModelServerConfigSchema, fixture("good_model_config.txt"));
    assert.equal(config.config.case, "modelConfigList");
    const models = config.config.value?.config ?? [];
    assert.deepEqual(
      models.map((m) => [m.name, m.basePath, m.modelPlatform]),
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture holds a literal ${VAR} placeholder
        ["half_plus_two", "${TEST_HALF_PLUS_TWO_DIR}", "tensorflow"],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture holds a literal ${VAR} placeholder
        ["half_plus_three", "${TEST_HALF_PLUS_THREE_DIR}", "tensorflow"],
      ],
    );
  });

  it("reads batching_config.txt, with Int64Value wrappers unboxed to bigint", needsFixtures, () => {
    const params = parseTextProto(BatchingParametersSchema, fixture("batching_config.txt"));
    assert.equal(params.maxBatchSize, 128n);
    assert.equal(params.batchTimeoutMicros, 0n);
    assert.equal(params.maxEnqueuedBatches, 1000000n);
    assert.equal(params.numBatchThreads, 8n);
    assert.equal(params.threadPoolName, undefined);
    assert.equal(params.enableLargeBatchSplitting, undefined);
    assertRoundTrip(BatchingParametersSchema, params);
  });

  it("reads monitoring_config.txt", needsFixtures, () => {
    const monitoring = parseTextProto(MonitoringConfigSchema, fixture("monitoring_config.txt"));
    assert.equal(monitoring.prometheusConfig?.enable, true);
    assert.equal(monitoring.prometheusConfig?.path, "/monitoring/prometheus/metrics");
  });

  it("rejects bad_model_config.txt with the file and the unknown word", needsFixtures, () => {
    // "improperly formatted file": not followed by ":", "{" or "<", so no line hint.
    assertParseError(
      ModelServerConfigSchema,
      fixture("bad_model_config.txt"),
      'bad_model_config.txt: unknown field "improperly" for message tensorflow.serving.ModelServerConfig',
      "bad_model_config.txt",
    );
  });

  it("reads version policies, version labels and a oneof", () => {
    const config = parseTextProto(
      ModelServerConfigSchema,
      `model_config_list {
        config {
          name: "mnist"
          base_path: "/models/mnist"
          model_platform: "tensorflow"
          model_version_policy { specific { versions: 1 versions: 2 } }
          version_labels { key: "stable" value: 1 }
          version_labels { key: "canary" value: 2 }
          version_labels { key: "stable" value: 3 }  # duplicate key: the last entry wins
        }
        config { name: "latest" model_version_policy { latest { num_versions: 2 } } }
        config { name: "all" model_version_policy { all {} } }
      }`,
    );
    assert.equal(config.config.case, "modelConfigList");
    const [mnist, latest, all] = config.config.value?.config ?? [];
    assert.equal(mnist?.name, "mnist");
    assert.equal(mnist?.basePath, "/models/mnist");
    assert.deepEqual(mnist?.modelVersionPolicy?.policyChoice, {
      case: "specific",
      value: {
        $typeName: "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific",
        versions: [1n, 2n],
      },
    });
    assert.deepEqual(mnist?.versionLabels, { stable: 3n, canary: 2n });
    assert.equal(latest?.modelVersionPolicy?.policyChoice.case, "latest");
    assert.equal(
      latest?.modelVersionPolicy?.policyChoice.case === "latest" &&
        latest.modelVersionPolicy.policyChoice.value.numVersions,
      2,
    );
    assert.equal(all?.modelVersionPolicy?.policyChoice.case, "all");
    assertRoundTrip(ModelServerConfigSchema, config);
  });

  it("rejects two members of one oneof, as C++ TextFormat does (was: the last one wins)", () => {
    assertParseError(
      ModelServerConfigSchema,
      "model_config_list { config { model_version_policy { latest { num_versions: 3 } specific { versions: 7 } } } }",
      'policy.config: oneof "policy_choice" is already set',
      "policy.config",
    );
    assertParseError(
      AllTypesSchema,
      'choice_name: "a" choice_number: 5',
      'text proto: oneof "choice" is already set',
    );
    assert.deepEqual(parseAll("choice_number: 5").choice, { case: "choiceNumber", value: 5 });
  });

  it("reads an SSL config with all its field kinds", () => {
    const ssl = parseTextProto(
      SSLConfigSchema,
      "server_key: 'KEY'\nserver_cert: \"CERT\\n\" \"CHAIN\"\ncustom_ca: ''\nclient_verify: true\n",
    );
    assert.equal(ssl.serverKey, "KEY");
    assert.equal(ssl.serverCert, "CERT\nCHAIN");
    assert.equal(ssl.customCa, "");
    assert.equal(ssl.clientVerify, true);
  });
});

describe("parseTextProto: syntax", () => {
  it("accepts every message delimiter, separators, comments and free whitespace", () => {
    const text = `# leading comment
      model_config_list: {   # colon before a message
        config < name: "a"; base_path: "/a", > ,
        config: < name: 'b' >;
        config{name:"c"}config
        {
          name
          :
          "d"   # value on its own line
        }
      }`;
    const config = parseTextProto(ModelServerConfigSchema, text);
    const models = config.config.case === "modelConfigList" ? config.config.value.config : [];
    assert.deepEqual(
      models.map((m) => [m.name, m.basePath]),
      [
        ["a", "/a"],
        ["b", ""],
        ["c", ""],
        ["d", ""],
      ],
    );
  });

  it("parses an empty text as the empty message", () => {
    assert.ok(
      equals(
        ModelServerConfigSchema,
        parseTextProto(ModelServerConfigSchema, "  # nothing\n"),
        create(ModelServerConfigSchema),
      ),
    );
  });

  it("accepts list syntax for scalars, enums, messages and map entries", () => {
    const all = parseAll(`
      ints: [1, -2, 0x10]  ints: 4  ints: []
      strs: ["a", 'b' "c"]
      colors: [RED, 2, COLOR_UNSPECIFIED]
      children: [{ i32: 1 }, < i32: 2 >]
      children { i32: 3 }
      by_id: [{ key: 1 value: "one" }, { key: -1 value: "minus one" }]
    `);
    assert.deepEqual(all.ints, [1, -2, 16, 4]);
    assert.deepEqual(all.strs, ["a", "bc"]);
    assert.deepEqual(all.colors, [1, 2, 0]);
    assert.deepEqual(
      (all.children as { i32: number }[]).map((c) => c.i32),
      [1, 2, 3],
    );
    assert.deepEqual(all.byId, { "1": "one", "-1": "minus one" });
  });

  it("rejects a singular field named twice, as C++ TextFormat does (was: merge / last wins)", () => {
    assertParseError(AllTypesSchema, "i32: 1 i32: 2", 'text proto: non-repeated field "i32" is repeated');
    assertParseError(
      AllTypesSchema,
      "child { i32: 1 } child { str: 'x' }",
      'text proto: non-repeated field "child" is repeated',
    );
    // Nested messages each get their own set of seen fields.
    const all = parseAll("child { i32: 1 str: 'x' } i32: 2 children { i32: 3 } children { i32: 3 }");
    assert.equal(all.i32, 2);
    assert.deepEqual([(all.child as { i32: number }).i32, (all.child as { str: string }).str], [1, "x"]);
    assert.equal((all.children as unknown[]).length, 2);
  });

  it("reads maps with every key kind, message and enum values, and missing keys or values", () => {
    const all = parseAll(`
      by_id { key: 9223372036854775807 value: "max" }
      by_id { value: "zero key" }
      by_flag { key: true value: 1 }
      by_flag { key: false }
      by_name { key: "x" value { i32: 7 } }
      by_name { key: "y" value: < str: "why" > }
      by_name { key: "z" }
      color_by_name { key: "r" value: RED }
      color_by_name < key: "g", value: 2 >
    `);
    assert.deepEqual(all.byId, { "9223372036854775807": "max", "0": "zero key" });
    assert.deepEqual(all.byFlag, { true: 1, false: 0 });
    const byName = all.byName as Record<string, { i32: number; str: string }>;
    assert.equal(byName.x?.i32, 7);
    assert.equal(byName.y?.str, "why");
    assert.equal(byName.z?.i32, 0);
    assert.deepEqual(all.colorByName, { r: 1, g: 2 });
  });

  it("skips the value of a reserved field name, as C++ does", () => {
    const all = parseAll(
      "old_name: 5 i32: 1 old_name { a: 1 b { c: 'x' } d: [1, 2] } old_name: ['s' 't', -inf] str: 'ok'",
    );
    assert.equal(all.i32, 1);
    assert.equal(all.str, "ok");
  });
});

describe("parseTextProto: scalar values", () => {
  it("reads integers in decimal, hex and octal, with signs, for every integer type", () => {
    const all = parseAll(`
      i32: -0x7FFFFFFF  u32: 017  s32: -017  f32: 0xFFFFFFFF  sf32: -2147483648
      i64: -0x10  u64: 0xffffffffffffffff  s64: -9223372036854775808  f64: 18446744073709551615
      sf64: 9223372036854775807
    `);
    assert.equal(all.i32, -0x7fffffff);
    assert.equal(all.u32, 15);
    assert.equal(all.s32, -15);
    assert.equal(all.f32, 0xffffffff);
    assert.equal(all.sf32, -2147483648);
    assert.equal(all.i64, -16n);
    assert.equal(all.u64, 18446744073709551615n);
    assert.equal(all.s64, -9223372036854775808n);
    assert.equal(all.f64, 18446744073709551615n);
    assert.equal(all.sf64, 9223372036854775807n);
  });

  it("keeps 64-bit values exact in TensorProto int64_val and uint64_val", () => {
    const tensor = parseTextProto(
      TensorProtoSchema,
      "dtype: DT_INT64 int64_val: [-9223372036854775808, 9223372036854775807, 9007199254740993] uint64_val: 18446744073709551615",
    );
    assert.equal(tensor.dtype, DataType.DT_INT64);
    assert.deepEqual(tensor.int64Val, [-9223372036854775808n, 9223372036854775807n, 9007199254740993n]);
    assert.deepEqual(tensor.uint64Val, [18446744073709551615n]);
  });

  it("rejects integers out of range with the field, the type and the value", () => {
    const outOfRange = (field: string, type: string, value: string) =>
      `text proto: cannot decode field tftest.AllTypes.${field} from text format: expected ${type}: ${value} out of range`;
    assertParseError(AllTypesSchema, "i32: 2147483648", outOfRange("i32", "number (int32)", "2147483648"));
    assertParseError(AllTypesSchema, "i32: -2147483649", outOfRange("i32", "number (int32)", "-2147483649"));
    assertParseError(AllTypesSchema, "u32: 0x100000000", outOfRange("u32", "number (uint32)", "4294967296"));
    assertParseError(
      AllTypesSchema,
      "i64: 9223372036854775808",
      outOfRange("i64", "bigint (int64)", "9223372036854775808"),
    );
    assertParseError(
      AllTypesSchema,
      "s64: -9223372036854775809",
      outOfRange("s64", "bigint (int64)", "-9223372036854775809"),
    );
    assertParseError(
      AllTypesSchema,
      "u64: 18446744073709551616",
      outOfRange("u64", "bigint (uint64)", "18446744073709551616"),
    );
    for (const text of ["\n  u32: -1", "f32: -0x1", "u64: -0"]) {
      assertParseError(
        AllTypesSchema,
        text,
        "text proto: an unsigned field does not accept a negative value",
      );
    }
  });

  it("reads floats and doubles in every form", () => {
    const forms: [string, number][] = [
      ["1", 1],
      ["1.5", 1.5],
      ["-2e-3", -2e-3],
      [".5", 0.5],
      ["1.", 1],
      ["1.0f", 1],
      ["1F", 1],
      ["2.5E+2", 250],
      ["- 3", -3],
      ["inf", Number.POSITIVE_INFINITY],
      ["-inf", Number.NEGATIVE_INFINITY],
      ["infinity", Number.POSITIVE_INFINITY],
      ["-Infinity", Number.NEGATIVE_INFINITY],
      ["INF", Number.POSITIVE_INFINITY],
      ["nan", Number.NaN],
      ["NaN", Number.NaN],
      ["-0", -0],
      ["1e400", Number.POSITIVE_INFINITY],
    ];
    for (const [text, value] of forms) {
      const all = parseAll(`dbl: ${text} flt: ${text}`);
      assert.ok(Object.is(all.dbl, value), `double ${text} read as ${String(all.dbl)}`);
      assert.ok(Object.is(all.flt, Math.fround(value)), `float ${text} read as ${String(all.flt)}`);
    }
    assert.equal(parseAll("flt: 0.1").flt, Math.fround(0.1));
    assert.equal(parseAll("dbl: 0.1").dbl, 0.1);
  });

  it("rejects hex and octal for floats, and malformed numbers", () => {
    for (const text of ["dbl: 0x10", "dbl: 010"]) {
      assertParseError(
        AllTypesSchema,
        text,
        "text proto: octal and hexadecimal are not valid for a float field",
      );
    }
    for (const text of ["dbl: 1.2.3", "i32: 12abc", "i32: 09"]) {
      assertParseError(AllTypesSchema, text, "text proto: invalid number");
    }
    assertParseError(AllTypesSchema, "dbl: 1e", "text proto: invalid exponent");
    assertParseError(AllTypesSchema, "i32: 1.5", 'text proto: expected an integer, got "1.5"');
    assertParseError(AllTypesSchema, "dbl: -nan", 'text proto: invalid float value "-nan"');
  });

  it("reads every bool spelling", () => {
    const spellings: [string, boolean][] = [
      ["true", true],
      ["True", true],
      ["t", true],
      ["1", true],
      ["false", false],
      ["False", false],
      ["f", false],
      ["0", false],
    ];
    for (const [text, value] of spellings) {
      const ssl = parseTextProto(SSLConfigSchema, `client_verify: ${text}`);
      assert.equal(ssl.clientVerify, value, text);
    }
    assertParseError(AllTypesSchema, "b: yes", 'text proto: expected a bool, got "yes"');
    assertParseError(AllTypesSchema, "b: 2", 'text proto: expected a bool, got "2"');
  });

  it("decodes string escapes and concatenates adjacent literals", () => {
    const all = parseAll(String.raw`str: "a\n\t\r\\\'\"\a\b\f\v\?" 'q\x41\101\u00e9\U0001F600' "日本" ""`);
    assert.equal(all.str, "a\n\t\r\\'\"\x07\b\f\v?qAAé😀日本");
    // Unlike C++ and protobuf-go, a surrogate pair spelled as two \u escapes is rejected.
    assertParseError(
      AllTypesSchema,
      String.raw`str: "\uD83D\uDE00"`,
      "text proto: invalid unicode escape \\uD83D",
    );
  });

  it("keeps raw bytes in bytes fields: escapes are bytes, source characters are UTF-8", () => {
    const all = parseAll(String.raw`byt: "\000\377\x7f\xFF" "é" '\u00e9' "\1\12x"`);
    assert.deepEqual(all.byt, new Uint8Array([0, 255, 127, 255, 0xc3, 0xa9, 0xc3, 0xa9, 1, 10, 0x78]));
  });

  it("rejects bad strings", () => {
    const cases: [string, string][] = [
      [String.raw`str: "a\qb"`, "invalid escape \\q"],
      ['str: "abc\nstr: "x"', "invalid U+000A in string"],
      ['str: "abc', "unterminated string"],
      [String.raw`str: "\400"`, "octal escape \\400 out of range"],
      [String.raw`str: "\u12"`, "invalid unicode escape \\u"],
      [String.raw`str: "\U00110000"`, "invalid unicode escape \\U00110000"],
      [String.raw`str: "\xff"`, "invalid UTF-8 in string"],
      ["str: 5", 'expected a string, got "5"'],
    ];
    for (const [text, problem] of cases) assertParseError(AllTypesSchema, text, `text proto: ${problem}`);
  });

  it("reads enums by name or number, and rejects unknown names and closed-enum numbers", () => {
    assert.equal(parseAll("color: GREEN").color, 2);
    assert.equal(parseAll("color: 1").color, 1);
    assert.equal(parseAll("color: 42").color, 42); // open enum: any int32
    assert.equal(parseAll("color: -0x2").color, -2);
    assert.equal(parseTextProto(TensorProtoSchema, "dtype: DT_STRING").dtype, DataType.DT_STRING);
    assertParseError(
      AllTypesSchema,
      "color: BLUE",
      'text proto: unknown enum value "BLUE" for enum tftest.Color',
    );
    assertParseError(
      AllTypesSchema,
      'color: "RED"',
      "text proto: expected an enum value for enum tftest.Color, got a string",
    );
    assert.equal((parseTextProto(LegacySchema, "closed: 2") as unknown as { closed: number }).closed, 2);
    assertParseError(
      LegacySchema,
      "closed: 3",
      "text proto: cannot decode field tftest2.Legacy.closed from text format: expected enum tftest2.Closed, got 3",
    );
  });
});

describe("parseTextProto: google.protobuf.Any", () => {
  const adapterRegistry = createRegistry(SavedModelBundleSourceAdapterConfigSchema);
  const expanded = `platform_configs {
    key: "tensorflow"
    value {
      source_adapter_config {
        [type.googleapis.com/tensorflow.serving.SavedModelBundleSourceAdapterConfig] {
          legacy_config { batching_parameters { max_batch_size { value: 64 } } saved_model_tags: "serve" }
        }
      }
    }
  }`;

  it("packs the expanded form through the registry", () => {
    const map = parseTextProto(PlatformConfigMapSchema, expanded, "platform.config", adapterRegistry);
    const any = map.platformConfigs.tensorflow?.sourceAdapterConfig;
    assert.ok(any);
    assert.equal(any.typeUrl, "type.googleapis.com/tensorflow.serving.SavedModelBundleSourceAdapterConfig");
    const adapter = anyUnpack(any, SavedModelBundleSourceAdapterConfigSchema);
    assert.equal(adapter?.legacyConfig?.batchingParameters?.maxBatchSize, 64n);
    assert.deepEqual(adapter?.legacyConfig?.savedModelTags, ["serve"]);
    // The same bytes anyPack produces.
    assert.ok(adapter);
    assert.deepEqual(any, anyPack(SavedModelBundleSourceAdapterConfigSchema, adapter));
  });

  it("reads the plain type_url/value form", () => {
    const inner = create(SSLConfigSchema, { serverKey: "k" });
    const bytes = [...toBinary(SSLConfigSchema, inner)]
      .map((b) => `\\${b.toString(8).padStart(3, "0")}`)
      .join("");
    const map = parseTextProto(
      PlatformConfigMapSchema,
      `platform_configs { key: "x" value { source_adapter_config { type_url: "type.googleapis.com/tensorflow.serving.SSLConfig" value: "${bytes}" } } }`,
    );
    const any = map.platformConfigs.x?.sourceAdapterConfig;
    assert.ok(any);
    assert.equal(anyUnpack(any, SSLConfigSchema)?.serverKey, "k");
  });

  it("fails clearly without a registry or for a type the registry lacks", () => {
    const unresolved =
      'unable to resolve "type.googleapis.com/tensorflow.serving.SavedModelBundleSourceAdapterConfig" for google.protobuf.Any';
    assertParseError(PlatformConfigMapSchema, expanded, `text proto: ${unresolved}`);
    assertParseError(
      PlatformConfigMapSchema,
      expanded,
      `p.config: ${unresolved}`,
      "p.config",
      createRegistry(SSLConfigSchema),
    );
  });

  it("rejects mixing the expanded form with type_url/value", () => {
    assertParseError(
      PlatformConfigMapSchema,
      'platform_configs { key: "x" value { source_adapter_config { type_url: "t/tensorflow.serving.SSLConfig" [type.googleapis.com/tensorflow.serving.SSLConfig] {} } } }',
      "text proto: google.protobuf.Any cannot mix the expanded form with type_url/value",
      undefined,
      createRegistry(SSLConfigSchema),
    );
  });

  it("rejects a bracketed extension name outside an Any", () => {
    assertParseError(
      AllTypesSchema,
      "[tftest.ext]: 1",
      'text proto: unknown extension "[tftest.ext]" for message tftest.AllTypes',
    );
  });
});

describe("parseTextProto: errors name the source; unknown fields get a line hint", () => {
  it("names the unknown field, its message type and its line", () => {
    assertParseError(
      ModelServerConfigSchema,
      'model_config_list {\n  config {\n    nme: "x"\n  }\n}\n',
      'model.config: unknown field "nme" for message tensorflow.serving.ModelConfig (line 3)',
      "model.config",
    );
    assertParseError(
      AllTypesSchema,
      "by_id { key: 1 kye: 2 }",
      'text proto: unknown field "kye" in map entry (line 1)',
    );
  });

  it("counts lines across CRLF line ends, and skips names in comments and values on their own line", () => {
    assertParseError(
      ModelServerConfigSchema,
      "# header nme: 'old'\r\nmodel_config_list {\r\n  config { # a comment with { and \" nme {\r\n    nme\r\n    : 'a' }\r\n}",
      'm.cfg: unknown field "nme" for message tensorflow.serving.ModelConfig (line 4)',
      "m.cfg",
    );
    assert.equal(
      parseTextProto(SSLConfigSchema, "client_verify: true # no newline at the end").clientVerify,
      true,
    );
  });

  it("gives no line hint when the line is not certain", () => {
    // "name" is a field of ModelConfig: the first `name:` may be a valid one.
    assertParseError(
      ModelServerConfigSchema,
      'model_config_list {\n  config { name: "a" }\n  name: "misplaced"\n}\n',
      'text proto: unknown field "name" for message tensorflow.serving.ModelConfigList',
    );
    // The same for a field declared by a message in the registry (it may sit in an expanded Any).
    const misplaced = 'platform_configs { key: "x"\n  value { server_key: "k" } }';
    const problem = 'unknown field "server_key" for message tensorflow.serving.PlatformConfig';
    assertParseError(
      PlatformConfigMapSchema,
      misplaced,
      `p: ${problem}`,
      "p",
      createRegistry(SSLConfigSchema),
    );
    assertParseError(PlatformConfigMapSchema, misplaced, `p: ${problem} (line 2)`, "p");
    // Not used as `name:` / `name {` anywhere.
    assertParseError(
      ModelServerConfigSchema,
      'nme "x"',
      'text proto: unknown field "nme" for message tensorflow.serving.ModelServerConfig',
    );
  });

  it("reports structural mistakes", () => {
    const S = ModelServerConfigSchema;
    const cases: [DescMessage, string, string][] = [
      [S, "model_config_list {\n  config {\n", 'unexpected end of input, expected "}"'],
      [S, "model_config_list { config < name: 'x' } }", 'expected a field name, got "}"'],
      [S, 'model_config_list { config { name "x" } }', 'expected ":" before value of field "name"'],
      [S, "model_config_list: 5", 'expected "{" or "<", got "5"'],
      [S, "model_config_list { config { name: ['a'] } }", 'expected a string, got "["'],
      [
        S,
        "model_config_list { config { model_version_policy { latest { num_versions: 'two' } } } }",
        "expected an integer, got a string",
      ],
      [AllTypesSchema, "ints: [1 2]", 'expected "," or "]" in list, got "2"'],
      [AllTypesSchema, "i32: 1 }", 'expected a field name, got "}"'],
      [AllTypesSchema, "i32: 1 @", 'unexpected "@"'],
      [AllTypesSchema, "i32: 1 ;; i32: 2", 'expected a field name, got ";"'],
      [AllTypesSchema, "by_id { key: 1 key: 2 }", 'map entry "key" is already set'],
      [AllTypesSchema, "1: 5", "cannot specify field by number: 1"],
    ];
    for (const [schema, text, problem] of cases) assertParseError(schema, text, `text proto: ${problem}`);
  });

  it("stops runaway nesting", () => {
    const deep = `${"child { ".repeat(150)}${"} ".repeat(150)}`;
    assertParseError(
      AllTypesSchema,
      deep,
      "text proto: recursion limit of 100 reached decoding message tftest.AllTypes",
    );
    const ok = `${"child { ".repeat(98)}i32: 7${" }".repeat(98)}`;
    let depth = parseAll(ok);
    for (let i = 0; i < 98; i++) depth = depth.child as Record<string, unknown>;
    assert.equal(depth.i32, 7);
  });
});

describe("printTextProto", () => {
  it("prints txtpbfmt's layout: two-space indent, declaration order, map entries in insertion order", () => {
    const config = parseTextProto(
      ModelServerConfigSchema,
      `model_config_list { config {
        version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 }
        model_version_policy { specific { versions: [1, 2] } }
        name: "m" base_path: "/b" } }`,
    );
    assert.equal(
      printTextProto(ModelServerConfigSchema, config),
      `model_config_list: {
  config: {
    name: "m"
    base_path: "/b"
    model_version_policy: {
      specific: {
        versions: 1
        versions: 2
      }
    }
    version_labels: {
      key: "stable"
      value: 1
    }
    version_labels: {
      key: "canary"
      value: 2
    }
  }
}
`,
    );
  });

  it("omits proto3 defaults, prints wrappers as messages and empty messages as {}", () => {
    const params = create(BatchingParametersSchema, {
      maxBatchSize: 128n,
      batchTimeoutMicros: 0n,
      allowedBatchSizes: [8n, 16n],
    });
    assert.equal(
      printTextProto(BatchingParametersSchema, params),
      "max_batch_size: {\n  value: 128\n}\nbatch_timeout_micros: {}\nallowed_batch_sizes: 8\nallowed_batch_sizes: 16\n",
    );
    assert.equal(printTextProto(BatchingParametersSchema, create(BatchingParametersSchema)), "");
  });

  it("escapes strings and bytes (\\xHH for the non-printable) and prints enums by name", () => {
    const all = parseAll(
      String.raw`str: "tab\tnl\nquote\"apos'bs\\bell\aé" byt: "\000\377A\"" color: RED colors: [GREEN, 7]`,
    );
    assert.equal(
      printTextProto(AllTypesSchema, all as MessageShape<typeof AllTypesSchema>),
      String.raw`str: "tab\tnl\nquote\"apos'bs\\bell\x07é"
byt: "\x00\xffA\""
color: RED
colors: GREEN
colors: 7
`,
    );
  });

  it("prints floats as the shortest text that reads back exactly", () => {
    const cases: [number, string, string][] = [
      // [value, as float, as double]
      [0.1, "0.1", "0.1"],
      [1 / 3, "0.33333334", "0.3333333333333333"],
      [3.4028234663852886e38, "3.4028235e+38", "3.4028234663852886e+38"],
      [1e-45, "1e-45", "1e-45"],
      [1e21, "1e+21", "1e+21"],
      [-2.5, "-2.5", "-2.5"],
      [-0, "-0", "-0"],
      [Number.NaN, "nan", "nan"],
      [Number.POSITIVE_INFINITY, "inf", "inf"],
      [Number.NEGATIVE_INFINITY, "-inf", "-inf"],
    ];
    for (const [value, asFloat, asDouble] of cases) {
      const tensor = create(TensorProtoSchema, { floatVal: [Math.fround(value)], doubleVal: [value] });
      assert.equal(
        printTextProto(TensorProtoSchema, tensor),
        `float_val: ${asFloat}\ndouble_val: ${asDouble}\n`,
      );
    }
  });

  it("prints a known Any expanded when given a registry, raw otherwise", () => {
    const registry = createRegistry(SSLConfigSchema);
    const map = create(PlatformConfigMapSchema, {
      platformConfigs: {
        p: { sourceAdapterConfig: anyPack(SSLConfigSchema, create(SSLConfigSchema, { serverKey: "k" })) },
      },
    });
    const expanded = assertRoundTrip(PlatformConfigMapSchema, map, registry);
    assert.match(
      expanded,
      /^ {4}source_adapter_config: \{\n {6}\[type\.googleapis\.com\/tensorflow\.serving\.SSLConfig\]: \{\n {8}server_key: "k"\n/m,
    );
    const raw = assertRoundTrip(PlatformConfigMapSchema, map);
    assert.match(
      raw,
      /type_url: "type.googleapis.com\/tensorflow.serving.SSLConfig"\n {6}value: "\\n\\x01k"\n/,
    );
  });
});

describe("round trip: print then parse gives the original", () => {
  it("a TensorProto with NaN, ±Inf, -0, 64-bit extremes and bytes of every value", () => {
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const tensor = create(TensorProtoSchema, {
      dtype: DataType.DT_FLOAT,
      tensorShape: { dim: [{ size: 2n, name: "batch" }, { size: -1n }] },
      floatVal: [
        Number.NaN,
        Infinity,
        -Infinity,
        -0,
        Math.fround(0.1),
        Math.fround(3.4028234663852886e38),
        Math.fround(1e-45),
      ],
      doubleVal: [Number.NaN, 0.1, Number.MIN_VALUE, Number.MAX_VALUE, -0],
      int64Val: [-9223372036854775808n, 9223372036854775807n],
      uint64Val: [18446744073709551615n],
      uint32Val: [4294967295],
      boolVal: [true, false],
      stringVal: [allBytes, new Uint8Array(), new TextEncoder().encode("ünïcødé")],
      tensorContent: allBytes,
    });
    const text = assertRoundTrip(TensorProtoSchema, tensor);
    assert.ok(
      text.includes(String.raw`tensor_content: "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e`),
      text,
    );
    // NaN compares unequal in equals(), so compare the encoded bytes too.
    assert.deepEqual(
      toBinary(TensorProtoSchema, parseTextProto(TensorProtoSchema, text)),
      toBinary(TensorProtoSchema, tensor),
    );
  });

  it("a message with every scalar type, maps and a oneof", () => {
    const all = parseAll(String.raw`
      i32: -2147483648 i64: -9223372036854775808 u32: 4294967295 u64: 18446744073709551615
      s32: -1 s64: 9223372036854775807 f32: 1 f64: 2 sf32: -3 sf64: -4 flt: 1.17549435e-38 dbl: 2.2250738585072014e-308
      b: true str: "\u0000\x01 é 😀 \x7f" byt: "\x80" color: GREEN ints: [0, -1] strs: ["", "''"] colors: [RED]
      children { child { str: "deep" } } by_id { key: -5 value: "neg" } by_id { key: 5 value: "pos" }
      by_flag { key: true value: -1 } by_name { key: "n" value { choice_child { i32: 1 } } } color_by_name { key: "c" }
      by_id { key: -7 value: "last" }
      choice_child { choice_name: "inner" }
    `);
    const text = assertRoundTrip(AllTypesSchema, all as MessageShape<typeof AllTypesSchema>);
    assert.ok(
      equals(
        AllTypesSchema,
        parseTextProto(AllTypesSchema, text),
        all as MessageShape<typeof AllTypesSchema>,
      ),
    );
    assert.ok(
      text.indexOf("key: 5") < text.indexOf("key: -7"),
      "map entries print in insertion order, not sorted",
    );
  });

  it("the inline TF Serving configs", () => {
    const config = parseTextProto(
      ModelServerConfigSchema,
      `model_config_list { config { name: "a" base_path: "/m/a" model_platform: "tensorflow"
       model_version_policy { all {} } version_labels { key: "x" value: -1 } logging_config { sampling_config { sampling_rate: 0.25 } } } }`,
    );
    assertRoundTrip(ModelServerConfigSchema, config);
    assertRoundTrip(
      SSLConfigSchema,
      create(SSLConfigSchema, { serverKey: "-----BEGIN KEY-----\nabc\n", clientVerify: true }),
    );
  });

  it("SavedModels from the fixtures, printed as saved_model.pbtxt", needsFixtures, () => {
    const files = [
      join(TFSERVING_FIXTURES, "saved_model_half_plus_two_cpu/00000123/saved_model.pb"),
      ...readdirSync(SAVEDMODEL_FIXTURES)
        .filter((name) => !name.endsWith(".md"))
        .map((name) => join(SAVEDMODEL_FIXTURES, name, "saved_model.pb")),
    ];
    for (const file of files) {
      // A plain Uint8Array, so bytes fields are not Buffer views (deepStrictEqual compares prototypes).
      const savedModel = fromBinary(SavedModelSchema, new Uint8Array(readFileSync(file)));
      const text = printTextProto(SavedModelSchema, savedModel);
      const parsed = parseTextProto(SavedModelSchema, text, file);
      // equals() ignores unknown fields (fields newer than our .proto), which text cannot carry.
      assert.ok(equals(SavedModelSchema, parsed, savedModel), file);
      assert.ok(
        text.startsWith("saved_model_schema_version: 1\nmeta_graphs: {\n"),
        `${file}:\n${text.slice(0, 200)}`,
      );
    }
  });
});
