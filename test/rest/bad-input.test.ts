// Malformed REST requests against a real server on 127.0.0.1: each row asserts the HTTP status and
// the error text TF Serving answers (json_tensor.cc, http_rest_api_handler.cc, http_rest_api_util.cc;
// TF_SERVING_API.md §1). Then the model lifecycle (a version still loading, one unloading), the REST
// deadline, and finally a good request, to show the server survived all of it.
//
// Where TF pretty-prints a JSON value inside a message (`JSON Value: {...}`), the regexes allow any
// whitespace: ts-serving echoes the request text, TF re-prints it with rapidjson's PrettyWriter.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { ensureDefaultModel } from "../../src/cli/default-model.js";
import type { ServerCore } from "../../src/core/server-core.js";
import { loadServable, type Servable } from "../../src/runtime/servable.js";
import { needsFixtures, SAVEDMODEL_FIXTURES, TFSERVING_FIXTURES } from "../fixtures.js";
import { useScratchDir } from "../scratch.js";
import {
  configText,
  errorText,
  gate,
  http,
  linkModel,
  modelEntry,
  parseConfig,
  post,
  type Reply,
  type RestServer,
  sleep,
  slowServable,
  startCore,
  startRest,
  writeStringModel,
} from "./helpers.js";

const HALF_PLUS_TWO = join(TFSERVING_FIXTURES, "saved_model_half_plus_two_cpu");
const H = "/v1/models/half_plus_two";
const SLOW_MS = 400;

/** An anchored regex for a literal message. */
const exact = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);

/** `Failed to process element: N of 'instances' list. Error: INVALID_ARGUMENT: <inner>` */
const element = (n: number, inner: string): RegExp =>
  exact(`Failed to process element: ${n} of 'instances' list. Error: INVALID_ARGUMENT: ${inner}`);

/** The dtype model's columnar body with one input's first value replaced. */
function dtypes(input: string, first: string): string {
  const values: Record<string, string> = {
    b: "true, false",
    f32: "1, 2",
    f64: "1, 2",
    i8: "1, 2",
    u8: "1, 2",
    i16: "1, 2",
    u16: "1, 2",
    i32: "1, 2",
    u32: "1, 2",
    i64: "1, 2",
    u64: "1, 2",
  };
  values[input] = `${first}, ${values[input]?.split(", ")[1]}`;
  return `{"inputs": {${Object.entries(values)
    .map(([k, v]) => `"${k}": [[${v}]]`)
    .join(", ")}}}`;
}

const ROW32 = Array.from({ length: 32 }, (_, i) => (i / 32).toFixed(3)).join(", ");
const ROW31 = Array.from({ length: 31 }, (_, i) => (i / 32).toFixed(3)).join(", ");

interface Row {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  /** A string is sent as is (not re-encoded); bytes for gzip rows. */
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** Which server answers: the main one (default) or the one with maxBodyBytes 1024. */
  readonly server?: "main" | "small";
  readonly status: number;
  /** The `error` text; "" = an empty body (TF's replies that bypass the JSON error wrapper). */
  readonly error: RegExp | "";
  /** Set where ts-serving differs from TF Serving: the precise bug (the row asserts TF's answer). */
  readonly todo?: string;
}

const ROWS: readonly Row[] = [
  // --- JSON syntax and top-level shape -------------------------------------------------------
  {
    name: "truncated JSON",
    path: `${H}:predict`,
    body: '{"instances": [1.0,',
    status: 400,
    error: /Invalid value\./,
  },
  {
    name: "truncated JSON, TF's wording",
    path: `${H}:predict`,
    body: '{"instances": [1.0,',
    status: 400,
    error: exact("JSON Parse error: Invalid value. at offset: 19"),
  },
  {
    name: "unclosed object",
    path: `${H}:predict`,
    body: '{"instances": [1.0]',
    status: 400,
    error: /Missing a comma or '}' after an object member\./,
  },
  {
    name: "unclosed object, TF's wording",
    path: `${H}:predict`,
    body: '{"instances": [1.0]',
    status: 400,
    error: exact("JSON Parse error: Missing a comma or '}' after an object member. at offset: 19"),
  },
  { name: "empty body", path: `${H}:predict`, body: "", status: 400, error: /The document is empty/ },
  {
    name: "empty body, TF's wording",
    path: `${H}:predict`,
    body: "",
    status: 400,
    error: exact("JSON Parse error: The document is empty"),
  },
  {
    name: "top level is an array",
    path: `${H}:predict`,
    body: "[1, 2]",
    status: 400,
    error: /^JSON Value: \[\s*1,\s*2\s*\] Is not object$/,
  },
  {
    name: "top level is a string",
    path: `${H}:predict`,
    body: '"hello"',
    status: 400,
    error: exact('JSON Value: "hello" Is not object'),
  },
  {
    name: "instances is not a list",
    path: `${H}:predict`,
    body: '{"instances": 5}',
    status: 400,
    error: /^JSON Value: \{\s*"instances": 5\s*\} Excepting 'instances' to be an list\/array$/,
  },
  {
    name: "instances is empty",
    path: `${H}:predict`,
    body: '{"instances": []}',
    status: 400,
    error: /^JSON Value: \{\s*"instances": \[\s*\]\s*\} No values in 'instances' array$/,
  },
  {
    name: "both instances and inputs",
    path: `${H}:predict`,
    body: '{"instances": [1.0], "inputs": [1.0]}',
    status: 400,
    error:
      /^JSON Value: \{.*\} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist $/s,
  },
  {
    name: "neither instances nor inputs",
    path: `${H}:predict`,
    body: '{"signature_name": "serving_default"}',
    status: 400,
    error: exact("Missing 'inputs' or 'instances' key"),
  },
  {
    name: "signature_name not a string",
    path: `${H}:predict`,
    body: '{"signature_name": 5, "instances": [1.0]}',
    status: 400,
    error: /^JSON Value: \{.*\} not formatted correctly\. 'signature_name' key must be a string value\.$/s,
  },
  {
    name: "unknown signature",
    path: `${H}:predict`,
    body: '{"signature_name": "nope", "instances": [1.0]}',
    status: 400,
    error: exact('Serving signature name: "nope" not found in signature def'),
  },
  // --- dtypes --------------------------------------------------------------------------------
  {
    name: "string for a float input",
    path: `${H}:predict`,
    body: '{"instances": ["a"]}',
    status: 400,
    error: element(0, 'JSON Value: "a" Type: String is not of expected type: float'),
  },
  {
    name: "bool for a float input",
    path: `${H}:predict`,
    body: '{"instances": [1.0, true]}',
    status: 400,
    error: element(1, "JSON Value: true Type: True is not of expected type: float"),
  },
  {
    name: "null for a float input",
    path: `${H}:predict`,
    body: '{"instances": [null]}',
    status: 400,
    error: element(0, "JSON Value: null Type: Null is not of expected type: float"),
  },
  {
    name: "b64 object for a float input",
    path: `${H}:predict`,
    body: '{"instances": [{"b64": "AAAA"}]}',
    status: 400,
    error:
      /^Failed to process element: 0 of 'instances' list\. Error: INVALID_ARGUMENT: JSON Value: \{\s*"b64": "AAAA"\s*\} Type: Object is not of expected type: float$/,
  },
  {
    name: "float overflow (1e39)",
    path: `${H}:predict`,
    body: '{"instances": [1e39]}',
    status: 400,
    error: element(0, "Cannot convert JSON value: 1e+39 to float without loss of precision."),
  },
  {
    name: "integer a float cannot hold (2^24 + 1)",
    path: `${H}:predict`,
    body: '{"instances": [16777217]}',
    status: 400,
    error: element(0, "Cannot convert JSON value: 16777217 to float without loss of precision."),
  },
  {
    name: "1.5 for int32",
    path: "/v1/models/multi:predict",
    body: '{"inputs": {"x": 1.5, "y": 1}}',
    status: 400,
    error: exact("JSON Value: 1.5 Type: Number is not of expected type: int32"),
  },
  {
    name: "int32 overflow",
    path: "/v1/models/multi:predict",
    body: '{"inputs": {"x": 1, "y": 2147483648}}',
    status: 400,
    error: exact("JSON Value: 2147483648 Type: Number is not of expected type: int32"),
  },
  {
    name: "int64 overflow (2^63)",
    path: "/v1/models/dtypes:predict",
    body: dtypes("i64", "9223372036854775808"),
    status: 400,
    error: exact("JSON Value: 9223372036854775808 Type: Number is not of expected type: int64"),
  },
  {
    name: "1.0 for int64",
    path: "/v1/models/dtypes:predict",
    body: dtypes("i64", "1.0"),
    status: 400,
    error: exact("JSON Value: 1.0 Type: Number is not of expected type: int64"),
  },
  {
    name: "negative uint64",
    path: "/v1/models/dtypes:predict",
    body: dtypes("u64", "-1"),
    status: 400,
    error: exact("JSON Value: -1 Type: Number is not of expected type: uint64"),
  },
  {
    name: "uint64 overflow (2^64)",
    path: "/v1/models/dtypes:predict",
    body: dtypes("u64", "18446744073709551616"),
    status: 400,
    error: exact("JSON Value: 1.84467441e+19 Type: Number is not of expected type: uint64"),
  },
  {
    name: "1 for bool",
    path: "/v1/models/dtypes:predict",
    body: dtypes("b", "1"),
    status: 400,
    error: exact("JSON Value: 1 Type: Number is not of expected type: bool"),
  },
  {
    name: "int8 overflow",
    path: "/v1/models/dtypes:predict",
    body: dtypes("i8", "128"),
    status: 400,
    error: exact("JSON Value: 128 Type: Number is not of expected type: int8"),
  },
  {
    name: "uint8 overflow (256)",
    path: "/v1/models/u8:predict",
    body: '{"instances": [256]}',
    status: 400,
    error: element(0, "JSON Value: 256 Type: Number is not of expected type: uint8"),
  },
  {
    name: "negative uint8",
    path: "/v1/models/u8:predict",
    body: '{"instances": [[3], [-1]]}',
    status: 400,
    error: element(1, "JSON Value: -1 Type: Number is not of expected type: uint8"),
  },
  {
    name: "number for a string input",
    path: "/v1/models/strings:predict",
    body: '{"instances": [5]}',
    status: 400,
    error: element(0, "JSON Value: 5 Type: Number is not of expected type: string"),
  },
  {
    name: "invalid base64",
    path: "/v1/models/strings:predict",
    body: '{"instances": [{"b64": "!!!"}]}',
    status: 400,
    error: element(0, "Unable to base64 decode"),
  },
  {
    name: "b64 object with an extra key is a named row",
    path: "/v1/models/strings:predict",
    body: '{"instances": [{"b64": "aGk=", "x": 1}]}',
    status: 400,
    error: exact(
      "Failed to process element: 0 key: b64 of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: b64",
    ),
  },
  // --- ranks and shapes ----------------------------------------------------------------------
  {
    name: "ragged rows",
    path: `${H}:predict`,
    body: '{"instances": [[1.0, 2.0], [3.0]]}',
    status: 400,
    error: element(1, "Expecting tensor size: 2 but got: 1"),
  },
  {
    name: "rows of equal size but different shape",
    path: `${H}:predict`,
    body: '{"instances": [[[1.0, 2.0]], [[1.0], [2.0]]]}',
    status: 400,
    error: element(1, "Expecting shape [1,2] but got: [2,1]"),
  },
  {
    name: "ragged columnar tensor",
    path: `${H}:predict`,
    body: '{"inputs": [[1.0], [2.0, 3.0]]}',
    status: 400,
    error: exact("Encountered list at unexpected size: 2 at level: 1 expected size: 1"),
  },
  {
    name: "scalar where a list is expected",
    path: `${H}:predict`,
    body: '{"inputs": [[1.0], 2.0]}',
    status: 400,
    error: exact("JSON Value: 2.0 found at incorrect level: 2 in the JSON DOM. Expected at level: 2"),
  },
  {
    name: "list nested deeper than the first element",
    path: `${H}:predict`,
    body: '{"inputs": [1.0, [2.0]]}',
    status: 400,
    error: exact("Encountered list at unexpected level: 1 expected < 1"),
  },
  {
    name: "wrong width for a MatMul ([1, 31] × [32, 64])",
    path: "/v1/models/ranking_model:predict",
    body: `{"instances": [[${ROW31}]]}`,
    status: 400,
    error: /MatMul/,
  },
  {
    name: "wrong rank for a MatMul ([1, 1, 32] into input_features [-1, 32])",
    path: "/v1/models/ranking_model:predict",
    body: `{"instances": [[[${ROW32}]]]}`,
    status: 400,
    // TF says `In[0] is not a matrix`; onnxruntime's Gemm (which TF MatMul lowers to) rejects the rank itself.
    error: /In\[0\] is not a matrix|NumDimensions\(\) == 2/,
  },
  {
    name: "outputs of different batch sizes in row format",
    path: "/v1/models/split:predict",
    body: '{"instances": [{"A": ["a", "b"], "B": "x/y"}, {"A": ["c", "d"], "B": "z"}]}',
    status: 400,
    error: /^Tensor name: (Original_A|Joined_Splited_Text) has inconsistent batch size: \d expecting: \d$/,
  },
  // --- input names ---------------------------------------------------------------------------
  {
    name: "missing input (columnar)",
    path: "/v1/models/multi:predict",
    body: '{"inputs": {"x": [1]}}',
    status: 400,
    error: exact("Missing named input: y in 'inputs' object."),
  },
  {
    name: "missing input (named rows)",
    path: "/v1/models/multi:predict",
    body: '{"instances": [{"x": 1}]}',
    status: 400,
    error:
      /^Failed to process element: 0 of 'instances' list\. JSON object: \{\s*"x": 1\s*\} keys must be equal to: x,y$/,
  },
  {
    name: "unknown input name (named rows)",
    path: "/v1/models/multi:predict",
    body: '{"instances": [{"x": 1, "y": 2, "z": 3}]}',
    status: 400,
    error: exact(
      "Failed to process element: 0 key: z of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: z",
    ),
  },
  {
    name: "only unknown input names (columnar)",
    path: `${H}:predict`,
    body: '{"inputs": {"z": [[1.0]]}}',
    status: 400,
    error: exact("Missing named input: x in 'inputs' object."),
  },
  {
    name: "plain rows for a two-input signature",
    path: "/v1/models/multi:predict",
    body: '{"instances": [1, 2]}',
    status: 400,
    error: exact(
      "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map",
    ),
  },
  {
    name: "plain columnar value for a two-input signature",
    path: "/v1/models/multi:predict",
    body: '{"inputs": [1, 2]}',
    status: 400,
    error: exact(
      "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map",
    ),
  },
  {
    name: "object row then list row",
    path: "/v1/models/multi:predict",
    body: '{"instances": [{"x": 1, "y": 2}, [1, 2]]}',
    status: 400,
    error: exact("Expecting object but got list at item 1 of input list"),
  },
  {
    name: "list row then object row",
    path: `${H}:predict`,
    body: '{"instances": [[1.0], {"x": [2.0]}]}',
    status: 400,
    error: exact("Expecting value/list but got object at item 1 of input list"),
  },
  // --- unknown model / version / label ------------------------------------------------------
  {
    name: "unknown model",
    path: "/v1/models/nope:predict",
    body: '{"instances": [1.0]}',
    status: 404,
    error: exact("Servable not found for request: Latest(nope)"),
  },
  {
    name: "unknown version",
    path: `${H}/versions/7:predict`,
    body: '{"instances": [1.0]}',
    status: 404,
    error: exact("Servable not found for request: Specific(half_plus_two, 7)"),
  },
  {
    name: "unknown label (a model with labels)",
    path: "/v1/models/two/labels/nope:predict",
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact("Unrecognized servable version label: nope"),
  },
  {
    name: "unknown label (a model without labels), classify",
    path: `${H}/labels/stable:classify`,
    body: '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}',
    status: 400,
    error: exact("Unrecognized servable version label: stable"),
  },
  {
    name: "status of an unknown model",
    method: "GET",
    path: "/v1/models/nope",
    status: 404,
    error: exact("Could not find any versions of model nope"),
  },
  {
    name: "status of an unknown version",
    method: "GET",
    path: `${H}/versions/7`,
    status: 404,
    error: exact("Could not find version 7 of model half_plus_two"),
  },
  {
    name: "metadata of an unknown version",
    method: "GET",
    path: `${H}/versions/7/metadata`,
    status: 404,
    error: exact("Servable not found for request: Specific(half_plus_two, 7)"),
  },
  {
    name: "unknown model with an unparsable body: TF parses the body before it looks the model up",
    path: "/v1/models/nope:predict",
    body: "{",
    status: 400,
    error: /^JSON Parse error: /,
  },
  // --- malformed paths -----------------------------------------------------------------------
  {
    name: "GET /v1/models",
    method: "GET",
    path: "/v1/models",
    status: 400,
    error: exact("Missing model name in request."),
  },
  {
    name: "GET /v1/models/ (trailing slash, no name)",
    method: "GET",
    path: "/v1/models/",
    status: 400,
    error: exact("Malformed request: GET /v1/models/"),
  },
  {
    name: "upper-case verb",
    path: `${H}:PREDICT`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: POST ${H}:PREDICT`),
  },
  {
    name: "non-numeric version",
    path: `${H}/versions/HELLO:predict`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: POST ${H}/versions/HELLO:predict`),
  },
  {
    name: "singular /version/",
    path: `${H}/version/1:predict`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: POST ${H}/version/1:predict`),
  },
  {
    name: "version and label together",
    path: `${H}/versions/1/labels/x:predict`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: POST ${H}/versions/1/labels/x:predict`),
  },
  {
    name: "query string on POST",
    path: `${H}:predict?debug=1`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: POST ${H}:predict?debug=1`),
  },
  {
    name: "query string on GET becomes part of the model name",
    method: "GET",
    path: `${H}?debug=1`,
    status: 404,
    error: exact("Could not find any versions of model half_plus_two?debug=1"),
  },
  {
    name: "PUT",
    method: "PUT",
    path: `${H}:predict`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: exact(`Malformed request: PUT ${H}:predict`),
  },
  { name: "DELETE", method: "DELETE", path: H, status: 400, error: exact(`Malformed request: DELETE ${H}`) },
  {
    name: "POST to a status path",
    path: H,
    body: "{}",
    status: 400,
    error: exact(`Malformed request: POST ${H}`),
  },
  {
    name: "POST to metadata",
    path: `${H}/metadata`,
    body: "{}",
    status: 400,
    error: exact(`Malformed request: POST ${H}/metadata`),
  },
  {
    name: "GET on an inference path",
    method: "GET",
    path: `${H}:predict`,
    status: 400,
    error: exact(`Malformed request: GET ${H}:predict`),
  },
  {
    name: "trailing slash",
    method: "GET",
    path: `${H}/`,
    status: 400,
    error: exact(`Malformed request: GET ${H}/`),
  },
  {
    name: "unknown /v1 path",
    method: "GET",
    path: "/v1/foo",
    status: 400,
    error: exact("Malformed request: GET /v1/foo"),
  },
  {
    name: "version overflowing int64: 400 with an empty body",
    path: `${H}/versions/18446744073709551615:predict`,
    body: '{"instances": [1.0]}',
    status: 400,
    error: "",
  },
  {
    name: "invalid %-escape in the model name: curl_easy_unescape keeps it literally",
    path: "/v1/models/%ZZ:predict",
    body: '{"instances": [1.0]}',
    status: 404,
    error: exact("Servable not found for request: Latest(%ZZ)"),
  },
  // --- bodies --------------------------------------------------------------------------------
  {
    name: "body over maxBodyBytes → 413",
    server: "small",
    path: `${H}:predict`,
    body: `{"instances": [${Array.from({ length: 600 }, () => "1.0").join(", ")}]}`,
    status: 413,
    error: exact("Request body exceeds the limit of 1024 bytes"),
  },
  {
    name: "gzip body that inflates past maxBodyBytes → 413",
    server: "small",
    path: `${H}:predict`,
    body: new Uint8Array(
      gzipSync(`{"instances": [${Array.from({ length: 5000 }, () => "1.0").join(", ")}]}`),
    ),
    headers: { "content-encoding": "gzip" },
    status: 413,
    error: exact("Request body exceeds the limit of 1024 bytes"),
  },
  {
    // TF (evhttp_request.cc) drops a body it cannot inflate and parses an empty one:
    // `JSON Parse error: The document is empty`. ts-serving says what happened instead.
    name: "gzip garbage",
    path: `${H}:predict`,
    body: "this is not gzip",
    headers: { "content-encoding": "gzip" },
    status: 400,
    error: exact("Failed to decompress the gzip request body"),
  },
  // --- classify / regress --------------------------------------------------------------------
  {
    name: "classify without examples",
    path: `${H}:classify`,
    body: '{"signature_name": "classify_x_to_y"}',
    status: 400,
    error: /^JSON Value: \{.*\} When method is classify, key 'examples' is expected and was not found$/s,
  },
  {
    name: "regress without examples (TF's message says classify too)",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "context": {"x": 1.0}}',
    status: 400,
    error: /^JSON Value: \{.*\} When method is classify, key 'examples' is expected and was not found$/s,
  },
  {
    name: "examples not a list",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": {"x": 1.0}}',
    status: 400,
    error: /^JSON Value: \{.*\} Expecting 'examples' value to be an list\/array$/s,
  },
  {
    name: "examples empty",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": []}',
    status: 400,
    error: /^JSON Value: \{.*\} 'examples' value is an empty array$/s,
  },
  {
    name: "an example that is not an object",
    path: `${H}:classify`,
    body: '{"signature_name": "classify_x_to_y", "examples": [1.0]}',
    status: 400,
    error: exact("Example must be JSON object but got JSON Number"),
  },
  {
    name: "int and float mixed in one feature",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"x": [10, 10.0]}]}',
    status: 400,
    error: exact("Unexpected element type in feature: x expecting type: int64"),
  },
  {
    name: "null feature",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"x": null}]}',
    status: 400,
    error: exact("Feature: x has element with unexpected JSON type: Null"),
  },
  {
    name: "nested list feature",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"x": [[1.0]]}]}',
    status: 400,
    error: exact("Feature: x has element with unexpected JSON type: Array"),
  },
  {
    name: "uint64 feature",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"x": 18446744073709551615}]}',
    status: 400,
    error: exact("Feature: x has uint64 element. Only int64 is supported."),
  },
  {
    name: "int64 feature where the model parses a float",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"x": 1}]}',
    status: 400,
    error: exact(
      "Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data type: int64 but expected type: float",
    ),
  },
  {
    name: "required feature missing",
    path: `${H}:regress`,
    body: '{"signature_name": "regress_x_to_y", "examples": [{"y": 1.0}]}',
    status: 400,
    error: exact("Name: <unknown>, Feature: x (data type: float) is required but could not be found."),
  },
  {
    name: "classify with an unknown signature",
    path: `${H}:classify`,
    body: '{"signature_name": "nope", "examples": [{"x": 1.0}]}',
    status: 400,
    error: exact("No signature was found with the name: nope"),
  },
  {
    name: "classify on a predict signature",
    path: `${H}:classify`,
    body: '{"examples": [{"x": 1.0}]}',
    status: 400,
    error: /^No classification inputs found in SignatureDef: /,
  },
];

/** Rows that must succeed: TF does not look at Content-Type. */
const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  "nonsense",
];

describe("REST bad input", needsFixtures, () => {
  let core: ServerCore | undefined;
  let main: RestServer;
  let small: RestServer;
  let deadline: RestServer;
  let entries: string[] = [];
  const gated = gate();
  const drainRunning = gate();
  const drainRelease = gate();
  after(async () => {
    gated.open();
    drainRelease.open();
    await main?.close();
    await small?.close();
    await deadline?.close();
    await core?.stop();
  });
  const scratch = useScratchDir("rest-bad-input");

  /** loadServable; `slow` runs SLOW_MS late, `slow_drain` until released, `gated` loads once opened. */
  const load = async (dir: string): Promise<Servable> => {
    if (/[/\\]gated[/\\]\d+$/.test(dir)) await gated.promise;
    const servable = await loadServable(dir);
    if (/[/\\]slow_drain[/\\]\d+$/.test(dir)) {
      return slowServable(servable, 0, { onRun: drainRunning.open, until: drainRelease.promise });
    }
    return /[/\\]slow[/\\]\d+$/.test(dir) ? slowServable(servable, SLOW_MS) : servable;
  };

  let root = "";
  before(async () => {
    root = scratch("models");
    await writeStringModel(join(root, "strings", "1"));
    const ranking = await ensureDefaultModel(root);
    entries = [
      modelEntry("half_plus_two", HALF_PLUS_TWO),
      modelEntry(
        "two",
        join(TFSERVING_FIXTURES, "saved_model_half_plus_two_2_versions"),
        'model_version_policy { all {} } version_labels { key: "stable" value: 123 }',
      ),
      modelEntry("ranking_model", ranking.basePath),
      modelEntry("dtypes", await linkModel(root, "dtypes", join(SAVEDMODEL_FIXTURES, "tf1_dtype_identity"))),
      modelEntry("split", await linkModel(root, "split", join(SAVEDMODEL_FIXTURES, "tf1_string_split_join"))),
      modelEntry(
        "multi",
        await linkModel(root, "multi", join(SAVEDMODEL_FIXTURES, "tfjs_multi_input_multi_output")),
      ),
      modelEntry("u8", await linkModel(root, "u8", join(SAVEDMODEL_FIXTURES, "tfjs_uint8_multiply"))),
      modelEntry("strings", join(root, "strings")),
      modelEntry("slow", await linkModel(root, "slow", join(HALF_PLUS_TWO, "00000123"), "123")),
      modelEntry("slow_drain", await linkModel(root, "slow_drain", join(HALF_PLUS_TWO, "00000123"), "123")),
    ];
    core = await startCore({ config: configText(...entries), load });
    main = await startRest({ backend: core });
    small = await startRest({ backend: core, maxBodyBytes: 1024 });
    deadline = await startRest({ backend: core, timeoutMs: 50 });
  });

  const send = (row: Row): Promise<Reply> =>
    http((row.server === "small" ? small : main).base, row.path, {
      method: row.method ?? "POST",
      ...(row.body === undefined ? {} : { body: row.body }),
      ...(row.headers ? { headers: row.headers } : {}),
    });

  describe(`${ROWS.length} malformed requests: status and error text`, () => {
    for (const row of ROWS) {
      it(
        `${row.name}: ${row.method ?? "POST"} ${row.path.slice(0, 70)} → ${row.status}`,
        row.todo ? { todo: row.todo } : {},
        async () => {
          const reply = await send(row);
          assert.equal(reply.status, row.status, reply.text);
          assert.equal(reply.headers.get("content-type"), "application/json");
          if (row.error === "") assert.equal(reply.text, "");
          else assert.match(errorText(reply), row.error);
        },
      );
    }
  });

  it("a wrong Content-Type does not matter (TF never checks it): 200", async () => {
    for (const type of CONTENT_TYPES) {
      const reply = await post(main.base, `${H}:predict`, '{"instances": [1.0, 2.0, 5.0]}', {
        "content-type": type,
      });
      assert.equal(reply.status, 200, `${type}: ${reply.text}`);
      assert.deepEqual(reply.json(), { predictions: [2.5, 3.0, 4.5] }, type);
    }
  });

  it("a request running past --rest_api_timeout_in_ms → 504 DEADLINE_EXCEEDED; fast ones are unaffected", async () => {
    const start = performance.now();
    const slow = await post(deadline.base, "/v1/models/slow:predict", '{"instances": [1.0]}');
    const elapsed = performance.now() - start;
    assert.equal(slow.status, 504, slow.text);
    assert.match(errorText(slow), exact("Request exceeded the REST timeout of 50 ms"));
    assert.ok(elapsed < SLOW_MS, `answered after ${elapsed.toFixed(0)} ms, not when the model finished`);
    const fast = await post(deadline.base, `${H}:predict`, '{"instances": [1.0]}');
    assert.deepEqual(fast.json(), { predictions: [2.5] });
    // Without a deadline the slow model answers.
    const patient = await post(main.base, "/v1/models/slow:predict", '{"instances": [1.0]}');
    assert.deepEqual(patient.json(), { predictions: [2.5] });
  });

  /** Polls GET /v1/models/<model> until `state` shows up (or fails after 5 s). */
  async function waitForState(model: string, version: string, state: string): Promise<void> {
    for (let i = 0; i < 250; i++) {
      const reply = await http(main.base, `/v1/models/${model}/versions/${version}`);
      if (reply.status === 200 && reply.text.includes(`"state": "${state}"`)) return;
      await sleep(20);
    }
    assert.fail(`${model} version ${version} never reached ${state}`);
  }

  it("a version still loading: status LOADING; predict, metadata → 404 Servable not found, as TF", async () => {
    assert.ok(core);
    const gatedEntry = modelEntry(
      "gated",
      await linkModel(root, "gated", join(HALF_PLUS_TWO, "00000123"), "1"),
    );
    entries = [...entries, gatedEntry];
    const reload = core.reloadConfig(parseConfig(configText(...entries)));
    try {
      await waitForState("gated", "1", "LOADING");
      const latest = await post(main.base, "/v1/models/gated:predict", '{"instances": [1.0]}');
      assert.equal(latest.status, 404);
      assert.equal(errorText(latest), "Servable not found for request: Latest(gated)");
      const specific = await post(main.base, "/v1/models/gated/versions/1:predict", '{"instances": [1.0]}');
      assert.equal(specific.status, 404);
      assert.equal(errorText(specific), "Servable not found for request: Specific(gated, 1)");
      const metadata = await http(main.base, "/v1/models/gated/metadata");
      assert.equal(metadata.status, 404);
      assert.equal(errorText(metadata), "Servable not found for request: Latest(gated)");
      assert.deepEqual((await http(main.base, "/v1/models/gated")).json(), {
        model_version_status: [
          { version: "1", state: "LOADING", status: { error_code: "OK", error_message: "" } },
        ],
      });
    } finally {
      gated.open();
      await reload;
    }
    const ready = await post(main.base, "/v1/models/gated:predict", '{"instances": [1.0]}');
    assert.deepEqual(ready.json(), { predictions: [2.5] });
  });

  it("a version unloading: in-flight requests finish; new ones → 404; status UNLOADING then END", async () => {
    assert.ok(core);
    const inFlight = post(main.base, "/v1/models/slow_drain:predict", '{"instances": [5.0]}');
    await drainRunning.promise; // the request holds its version handle now
    entries = entries.filter((e) => !e.includes('"slow_drain"'));
    await core.reloadConfig(parseConfig(configText(...entries)));
    await waitForState("slow_drain", "123", "UNLOADING");
    const refused = await post(main.base, "/v1/models/slow_drain:predict", '{"instances": [1.0]}');
    assert.equal(refused.status, 404);
    assert.equal(errorText(refused), "Servable not found for request: Latest(slow_drain)");
    drainRelease.open();
    const finished = await inFlight;
    assert.equal(finished.status, 200, finished.text);
    assert.deepEqual(finished.json(), { predictions: [4.5] });
    await waitForState("slow_drain", "123", "END");
    assert.deepEqual((await http(main.base, "/v1/models/slow_drain")).json(), {
      model_version_status: [
        { version: "123", state: "END", status: { error_code: "OK", error_message: "" } },
      ],
    });
  });

  it("after all of that, the server still answers good requests correctly", async () => {
    const reply = await post(main.base, `${H}:predict`, '{"instances": [1.0, 2.0, 5.0]}');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
    const classify = await post(
      main.base,
      `${H}:classify`,
      '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}',
    );
    assert.deepEqual(classify.json(), { results: [[["", 2.5]]] });
    const status = await http(main.base, H);
    assert.deepEqual(status.json(), {
      model_version_status: [
        { version: "123", state: "AVAILABLE", status: { error_code: "OK", error_message: "" } },
      ],
    });
    const viaSmall = await post(small.base, `${H}:predict`, '{"instances": [1.0]}');
    assert.deepEqual(viaSmall.json(), { predictions: [2.5] });
  });
});
