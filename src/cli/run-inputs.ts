// Inputs of `ts-serving run`, in saved_model_cli run's three forms:
//   --inputs 'x=file.npy;y=other.npy'
//   --input_exprs 'x=[[1, 2], [3, 4]];y=np.ones((2, 3))'   (Python literals and basic NumPy calls)
//   --input_examples 'inputs=[{"feature": [1.0], "name": ["a"]}]'   (serialized tf.Example protos)
import { readFile } from "node:fs/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { invalidArgument, notFound, ServingError } from "../errors.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import type { Feature } from "../proto/gen/tensorflow/core/example/feature_pb.js";
import type { SignatureDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import {
  baseDType,
  DataType,
  dtypeName,
  dtypeShortName,
  fixedDType,
  type NumericArray,
} from "../tensor/dtype.js";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../tensor/half.js";
import { readNpy } from "../tensor/npy.js";
import { numElements, Tensor } from "../tensor/tensor.js";

export interface RunInputOptions {
  /** `<key>=<file.npy>` pairs separated by `;`. */
  inputs?: string;
  /** `<key>=<Python expression>` pairs separated by `;`. */
  inputExprs?: string;
  /** `<key>=<list of feature dicts>` pairs separated by `;`. */
  inputExamples?: string;
}

/**
 * Builds the feed of a signature from saved_model_cli run's input options. Each value is cast to the
 * signature input's dtype (an INVALID_ARGUMENT when it does not fit: 1.5 for an int input, 300 for
 * uint8, a string for a number); its shape is the value's own, with no reshaping. An unknown input key
 * or a key given twice (in one option or across options) is an INVALID_ARGUMENT. Missing inputs are left
 * to the signature runner, which fills defaults.
 *
 * @example
 * await parseRunInputs({ inputExprs: "x=[[1.0], [2.0]]" }, signature); // Map { "x" => DT_FLOAT [2, 1] }
 */
export async function parseRunInputs(
  options: RunInputOptions,
  signature: SignatureDef,
  read: (path: string) => Promise<Uint8Array> = readFile,
): Promise<Map<string, Tensor>> {
  const feed = new Map<string, Tensor>();
  const seen = new Map<string, string>();
  const claim = (key: string, option: string) => {
    const previous = seen.get(key);
    if (previous !== undefined) {
      throw invalidArgument(
        `input key "${key}" is given more than once (${previous === option ? `twice in ${option}` : `in ${previous} and ${option}`})`,
      );
    }
    seen.set(key, option);
    return inputDType(signature, key);
  };

  for (const { key, value } of splitAssignments(options.inputs, "--inputs", "<input_key>=<filename>")) {
    const dtype = claim(key, "--inputs");
    if (/\[[^[\]]*\]$/.test(value)) {
      throw invalidArgument(
        `--inputs "${key}=${value}": "<filename>[<variable_name>]" selects an array in an .npz archive, and .npz is not supported; save the array alone with np.save and pass "${key}=<file>.npy"`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await read(value);
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw notFound(`--inputs "${key}=${value}": no such file ${value}`);
      throw ServingError.from(error);
    }
    let tensor: Tensor;
    try {
      tensor = readNpy(bytes);
    } catch (error: unknown) {
      throw invalidArgument(`--inputs "${key}=${value}": ${(error as Error).message}`);
    }
    feed.set(key, castTensor(tensor, dtype, key));
  }

  for (const { key, value } of splitAssignments(
    options.inputExprs,
    "--input_exprs",
    "<input_key>=<python expression>",
  )) {
    const dtype = claim(key, "--input_exprs");
    feed.set(key, pyValueToTensor(parsePythonExpression(value), dtype, key));
  }

  for (const { key, value } of splitAssignments(
    options.inputExamples,
    "--input_examples",
    "<input_key>=[{feature_name: [values]}, ...]",
  )) {
    const dtype = claim(key, "--input_examples");
    if (dtype !== DataType.DT_STRING) {
      throw invalidArgument(
        `--input_examples "${key}": tf.Example inputs are serialized protos and need a string input, but "${key}" is ${dtypeShortName(dtype)}`,
      );
    }
    feed.set(key, examplesTensor(parsePythonExpression(value), key));
  }
  return feed;
}

/** The dtype of a signature input, or an INVALID_ARGUMENT naming the valid keys. */
function inputDType(signature: SignatureDef, key: string): DataType {
  const info = signature.inputs[key];
  if (!info) {
    const known = Object.keys(signature.inputs).sort();
    throw invalidArgument(
      `"${key}" is not a valid input key. Please choose from ${known.map((k) => `"${k}"`).join(", ")}, or use ts-serving inspect to list them.`,
    );
  }
  if (info.encoding.case !== undefined && info.encoding.case !== "name") {
    throw invalidArgument(`input "${key}" is a sparse or composite tensor, which run cannot feed`);
  }
  return baseDType(info.dtype);
}

/**
 * Splits `k1=v1;k2=v2` at the `;`s outside quotes and brackets, and each part at its first `=`.
 * Empty parts are skipped, as saved_model_cli does.
 */
function splitAssignments(
  text: string | undefined,
  option: string,
  form: string,
): { key: string; value: string }[] {
  if (text === undefined) return [];
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (ch === ";" && depth <= 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts
    .filter((p) => p.trim() !== "")
    .map((part) => {
      const eq = part.indexOf("=");
      const key = eq < 0 ? "" : part.slice(0, eq).trim();
      const value = eq < 0 ? "" : part.slice(eq + 1).trim();
      if (key === "" || value === "") {
        throw invalidArgument(`${option} "${part.trim()}" format is incorrect. Please follow "${form}"`);
      }
      return { key, value };
    });
}

// --- Python literals ----------------------------------------------------------------------------

/** A NumPy dtype named in an expression (np.float32, 'int64', float...), as the tensor dtype it means. */
interface NpDType {
  readonly kind: "dtype";
  readonly dtype: DataType;
  readonly name: string;
}

/** A value of a Python expression. */
export type PyValue =
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "str"; readonly value: string }
  | { readonly kind: "bytes"; readonly value: Uint8Array }
  | { readonly kind: "none" }
  | { readonly kind: "list" | "tuple"; readonly items: readonly PyValue[] }
  | { readonly kind: "dict"; readonly entries: readonly (readonly [PyValue, PyValue])[] }
  | { readonly kind: "ndarray"; readonly shape: readonly number[]; readonly items: readonly PyScalar[] }
  | NpDType;

export type PyScalar = Extract<PyValue, { kind: "int" | "float" | "bool" | "str" | "bytes" }>;

const NP_DTYPES: Record<string, DataType> = {
  float16: DataType.DT_HALF,
  half: DataType.DT_HALF,
  float32: DataType.DT_FLOAT,
  single: DataType.DT_FLOAT,
  float64: DataType.DT_DOUBLE,
  double: DataType.DT_DOUBLE,
  float: DataType.DT_DOUBLE,
  float_: DataType.DT_DOUBLE,
  int8: DataType.DT_INT8,
  int16: DataType.DT_INT16,
  int32: DataType.DT_INT32,
  int64: DataType.DT_INT64,
  int: DataType.DT_INT64,
  int_: DataType.DT_INT64,
  uint8: DataType.DT_UINT8,
  uint16: DataType.DT_UINT16,
  uint32: DataType.DT_UINT32,
  uint64: DataType.DT_UINT64,
  bool: DataType.DT_BOOL,
  bool_: DataType.DT_BOOL,
  complex64: DataType.DT_COMPLEX64,
  complex128: DataType.DT_COMPLEX128,
  str: DataType.DT_STRING,
  str_: DataType.DT_STRING,
  bytes: DataType.DT_STRING,
  bytes_: DataType.DT_STRING,
  object: DataType.DT_STRING,
  object_: DataType.DT_STRING,
};

type Token =
  | { type: "num"; text: string; pos: number }
  | { type: "str"; value: string; bytes: boolean; pos: number }
  | { type: "name"; text: string; pos: number }
  | { type: "op"; text: string; pos: number }
  | { type: "end"; pos: number };

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const fail = (why: string): never => {
    throw invalidArgument(`Expression "${text}" is not a valid python literal: ${why} at offset ${pos}`);
  };
  while (pos < text.length) {
    const ch = text[pos]!;
    if (/\s/.test(ch)) {
      pos++;
      continue;
    }
    const rest = text.slice(pos);
    const prefixed = /^([bBrRuU]{1,2})?(['"])/.exec(rest);
    if (prefixed && (!prefixed[1] || /^(?:[bB][rR]?|[rR][bB]?|[uU])$/.test(prefixed[1]))) {
      const prefix = (prefixed[1] ?? "").toLowerCase();
      const q = prefixed[2]!;
      const triple = rest.startsWith(q.repeat(3), prefix.length);
      const delimiter = triple ? q.repeat(3) : q;
      let i = pos + prefix.length + delimiter.length;
      let raw = "";
      for (;;) {
        if (i >= text.length) fail("unterminated string");
        if (text.startsWith(delimiter, i)) break;
        const c = text[i]!;
        if (c === "\\" && i + 1 < text.length) {
          raw += c + text[i + 1]!;
          i += 2;
          continue;
        }
        if (!triple && c === "\n") fail("newline in string");
        raw += c;
        i++;
      }
      const isBytes = prefix.includes("b");
      const value = prefix.includes("r") ? raw : unescapePython(raw, isBytes, fail);
      tokens.push({ type: "str", value, bytes: isBytes, pos });
      pos = i + delimiter.length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && /[\d.]/.test(ch) && number[0] !== ".") {
      tokens.push({ type: "num", text: number[0], pos });
      pos += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (name) {
      tokens.push({ type: "name", text: name[0], pos });
      pos += name[0].length;
      continue;
    }
    if ("()[]{},:=+-.".includes(ch)) {
      tokens.push({ type: "op", text: ch, pos });
      pos++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`);
  }
  tokens.push({ type: "end", pos });
  return tokens;
}

/** Python string escapes. Bytes literals hold latin1 code units, one per byte. */
function unescapePython(raw: string, isBytes: boolean, fail: (why: string) => never): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      if (isBytes && c.charCodeAt(0) > 0x7f) fail("bytes can only contain ASCII literal characters");
      out += c;
      continue;
    }
    const n = raw[++i]!;
    const simple: Record<string, string> = {
      "\n": "",
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    if (n in simple) {
      out += simple[n];
    } else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(raw.slice(i))![0];
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n === "x" || (!isBytes && (n === "u" || n === "U"))) {
      const width = n === "x" ? 2 : n === "u" ? 4 : 8;
      const hex = raw.slice(i + 1, i + 1 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) fail(`truncated \\${n} escape`);
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) fail(`invalid \\${n} escape`);
      out += String.fromCodePoint(code);
      i += width;
    } else {
      out += `\\${n}`;
    }
  }
  return out;
}

/**
 * Evaluates the Python expressions saved_model_cli run accepts: literals (numbers, strings, bytes,
 * True/False/None, lists, tuples, dicts), negation, `float('nan')`/`float('inf')`, `np.nan`/`np.inf`,
 * and the NumPy calls `np.array(obj, dtype=...)`, `np.asarray`, `np.zeros(shape)`, `np.ones(shape)`,
 * `np.full(shape, value)`, `np.arange(...)`, `np.float32(x)`-style scalars (`numpy.` works too).
 *
 * @example
 * parsePythonExpression("[[1, 2], [3, 4]]"); // { kind: "list", items: [...] }
 */
export function parsePythonExpression(text: string): PyValue {
  const tokens = tokenize(text);
  let index = 0;
  const peek = () => tokens[index]!;
  const fail = (why: string, at = peek().pos): never => {
    throw invalidArgument(`Expression "${text}" is not a valid python literal: ${why} at offset ${at}`);
  };
  const isOp = (op: string) => {
    const t = peek();
    return t.type === "op" && t.text === op;
  };
  const expectOp = (op: string) => {
    if (!isOp(op)) fail(`expected '${op}'`);
    index++;
  };

  /** Comma-separated items up to `close`; returns them and whether a comma was seen. */
  const sequence = <T>(close: string, item: () => T): { items: T[]; comma: boolean } => {
    const items: T[] = [];
    let comma = false;
    while (!isOp(close)) {
      items.push(item());
      if (isOp(",")) {
        comma = true;
        index++;
      } else if (!isOp(close)) {
        fail(`expected ',' or '${close}'`);
      }
    }
    index++;
    return { items, comma };
  };

  const expression = (): PyValue => {
    if (isOp("-") || isOp("+")) {
      const negate = isOp("-");
      const at = peek().pos;
      index++;
      const operand = expression();
      return negate ? negateValue(operand, () => fail("bad operand for unary -", at)) : operand;
    }
    return atom();
  };

  const atom = (): PyValue => {
    const t = peek();
    if (t.type === "num") {
      index++;
      return parseNumber(t.text, () => fail(`complex literal ${t.text} is not supported`, t.pos));
    }
    if (t.type === "str") {
      // Adjacent literals concatenate, as in Python.
      let value = "";
      const isBytes = t.bytes;
      while (peek().type === "str") {
        const s = peek() as Extract<Token, { type: "str" }>;
        if (s.bytes !== isBytes) fail("cannot mix bytes and nonbytes literals");
        value += s.value;
        index++;
      }
      if (isBytes) return { kind: "bytes", value: Uint8Array.from(value, (c) => c.charCodeAt(0)) };
      return { kind: "str", value };
    }
    if (t.type === "op") {
      if (t.text === "(") {
        index++;
        const { items, comma } = sequence(")", expression);
        if (items.length === 1 && !comma) return items[0]!;
        return { kind: "tuple", items };
      }
      if (t.text === "[") {
        index++;
        return { kind: "list", items: sequence("]", expression).items };
      }
      if (t.text === "{") {
        index++;
        const { items } = sequence("}", () => {
          const key = expression();
          expectOp(":");
          return [key, expression()] as const;
        });
        return { kind: "dict", entries: items };
      }
      return fail(`unexpected '${t.text}'`);
    }
    if (t.type === "name") {
      let name = t.text;
      index++;
      while (isOp(".")) {
        index++;
        const part = peek();
        if (part.type !== "name") fail("expected a name after '.'");
        name += `.${(part as Extract<Token, { type: "name" }>).text}`;
        index++;
      }
      if (isOp("(")) {
        index++;
        const args: PyValue[] = [];
        const kwargs = new Map<string, PyValue>();
        sequence(")", () => {
          const a = peek();
          const b = tokens[index + 1]!;
          if (a.type === "name" && b.type === "op" && b.text === "=") {
            index += 2;
            kwargs.set(a.text, expression());
          } else {
            if (kwargs.size > 0) fail("positional argument follows keyword argument");
            args.push(expression());
          }
          return null;
        });
        return callFunction(name, args, kwargs, (why) => fail(why, t.pos));
      }
      return nameValue(name, (why) => fail(why, t.pos));
    }
    return fail("unexpected end of expression");
  };

  const value = expression();
  if (peek().type !== "end") fail("unexpected trailing input");
  return value;
}

function parseNumber(text: string, complex: () => never): PyValue {
  if (/[jJ]$/.test(text)) return complex();
  const clean = text.replace(/_/g, "");
  if (/^0[xXoObB]/.test(clean)) return { kind: "int", value: BigInt(clean) };
  if (/^\d+$/.test(clean)) return { kind: "int", value: BigInt(clean) };
  return { kind: "float", value: Number(clean) };
}

function negateValue(v: PyValue, fail: () => never): PyValue {
  switch (v.kind) {
    case "int":
      return { kind: "int", value: -v.value };
    case "float":
      return { kind: "float", value: -v.value };
    case "bool":
      return { kind: "int", value: v.value ? -1n : 0n };
    case "ndarray":
      return {
        kind: "ndarray",
        shape: v.shape,
        items: v.items.map((item) => negateValue(item, fail) as PyScalar),
      };
    default:
      return fail();
  }
}

const NUMPY_PREFIX = /^(?:np|numpy)\./;

function nameValue(name: string, fail: (why: string) => never): PyValue {
  switch (name) {
    case "True":
      return { kind: "bool", value: true };
    case "False":
      return { kind: "bool", value: false };
    case "None":
      return { kind: "none" };
    case "np.nan":
    case "numpy.nan":
    case "np.NaN":
    case "math.nan":
      return { kind: "float", value: Number.NaN };
    case "np.inf":
    case "numpy.inf":
    case "np.Inf":
    case "math.inf":
      return { kind: "float", value: Number.POSITIVE_INFINITY };
    case "np.pi":
    case "math.pi":
      return { kind: "float", value: Math.PI };
    case "np.e":
    case "math.e":
      return { kind: "float", value: Math.E };
  }
  const short = name.replace(NUMPY_PREFIX, "");
  const isNumpy = short !== name || ["float", "int", "bool", "str", "bytes", "object"].includes(name);
  if (isNumpy && NP_DTYPES[short] !== undefined)
    return { kind: "dtype", dtype: NP_DTYPES[short]!, name: short };
  return fail(`unknown name "${name}"`);
}

function dtypeArgument(value: PyValue | undefined, fail: (why: string) => never): DataType | undefined {
  if (value === undefined || value.kind === "none") return undefined;
  if (value.kind === "dtype") return value.dtype;
  if (value.kind === "str" && NP_DTYPES[value.value] !== undefined) return NP_DTYPES[value.value];
  return fail(`unsupported dtype ${describe(value)}`);
}

function shapeArgument(value: PyValue | undefined, fail: (why: string) => never): number[] {
  if (value === undefined) return fail("missing shape argument");
  let dims: readonly PyValue[];
  if (value.kind === "int") dims = [value];
  else if (value.kind === "tuple" || value.kind === "list") dims = value.items;
  else return fail("shape must be an int or a tuple of ints");
  return dims.map((d) => {
    if (d.kind !== "int" || d.value < 0n || d.value > 2n ** 31n)
      return fail("shape must hold non-negative ints");
    return Number(d.value);
  });
}

function callFunction(
  name: string,
  args: PyValue[],
  kwargs: Map<string, PyValue>,
  fail: (why: string) => never,
): PyValue {
  const allowed = (names: string[]) => {
    for (const key of kwargs.keys())
      if (!names.includes(key)) fail(`${name}() got an unexpected keyword argument '${key}'`);
  };
  if (name === "float" || name === "int") {
    allowed([]);
    if (args.length !== 1) fail(`${name}() takes one argument here`);
    const arg = args[0]!;
    if (name === "float") {
      if (arg.kind === "str") {
        const s = arg.value.trim().toLowerCase();
        const special: Record<string, number> = {
          nan: Number.NaN,
          "+nan": Number.NaN,
          "-nan": Number.NaN,
          inf: Infinity,
          "+inf": Infinity,
          infinity: Infinity,
          "+infinity": Infinity,
          "-inf": -Infinity,
          "-infinity": -Infinity,
        };
        if (s in special) return { kind: "float", value: special[s]! };
        if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(s)) return { kind: "float", value: Number(s) };
        return fail(`could not convert string to float: '${arg.value}'`);
      }
      if (arg.kind === "int") return { kind: "float", value: Number(arg.value) };
      if (arg.kind === "float") return arg;
      if (arg.kind === "bool") return { kind: "float", value: arg.value ? 1 : 0 };
      return fail(`float() argument must be a string or a number, not ${describe(arg)}`);
    }
    if (arg.kind === "int") return arg;
    if (arg.kind === "bool") return { kind: "int", value: arg.value ? 1n : 0n };
    if (arg.kind === "float" && Number.isFinite(arg.value))
      return { kind: "int", value: BigInt(Math.trunc(arg.value)) };
    if (arg.kind === "str" && /^\s*[+-]?\d+\s*$/.test(arg.value))
      return { kind: "int", value: BigInt(arg.value.trim()) };
    return fail(`int() cannot convert ${describe(arg)}`);
  }
  if (!NUMPY_PREFIX.test(name)) return fail(`unsupported function ${name}()`);
  const fn = name.replace(NUMPY_PREFIX, "");
  switch (fn) {
    case "array":
    case "asarray": {
      allowed(["dtype"]);
      if (args.length < 1 || args.length > 2) fail(`np.${fn}() takes an object and an optional dtype`);
      const dtype = dtypeArgument(kwargs.get("dtype") ?? args[1], fail);
      const { shape, items } = toNested(args[0]!, "np.array argument");
      return {
        kind: "ndarray",
        shape,
        items: dtype === undefined ? items : items.map((v) => numpyCast(v, dtype, fail)),
      };
    }
    case "zeros":
    case "ones":
    case "empty":
    case "full": {
      allowed(fn === "full" ? ["dtype", "fill_value"] : ["dtype"]);
      const shape = shapeArgument(args[0], fail);
      const fill: PyScalar =
        fn === "full"
          ? scalarArgument(kwargs.get("fill_value") ?? args[1], fail)
          : { kind: "float", value: fn === "ones" ? 1 : 0 };
      const dtype = dtypeArgument(kwargs.get("dtype") ?? (fn === "full" ? args[2] : args[1]), fail);
      const item = dtype === undefined ? fill : numpyCast(fill, dtype, fail);
      return { kind: "ndarray", shape, items: new Array<PyScalar>(numElements(shape)).fill(item) };
    }
    case "arange": {
      allowed(["dtype", "start", "stop", "step"]);
      const numbers = args.map((a) => scalarArgument(a, fail));
      if (numbers.length < 1 || numbers.length > 3) fail("np.arange() takes 1 to 3 positional arguments");
      const [start, stop, step] =
        numbers.length === 1 ? [{ kind: "int", value: 0n } as PyScalar, numbers[0]!, undefined] : numbers;
      const num = (v: PyScalar | undefined, fallback: number) =>
        v === undefined
          ? fallback
          : v.kind === "int"
            ? Number(v.value)
            : v.kind === "float"
              ? v.value
              : fail("np.arange() needs numbers");
      const a = num(start, 0);
      const b = num(stop, 0);
      const s = num(step, 1);
      if (s === 0 || !Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(s))
        fail("invalid np.arange() range");
      const count = Math.max(0, Math.ceil((b - a) / s));
      if (count > 1e8) fail("np.arange() range is too large");
      const integral = numbers.every((v) => v.kind === "int");
      const items: PyScalar[] = Array.from({ length: count }, (_, i) =>
        integral ? { kind: "int", value: BigInt(a + i * s) } : { kind: "float", value: a + i * s },
      );
      const dtype = dtypeArgument(kwargs.get("dtype"), fail);
      return {
        kind: "ndarray",
        shape: [count],
        items: dtype === undefined ? items : items.map((v) => numpyCast(v, dtype, fail)),
      };
    }
  }
  const scalarType = NP_DTYPES[fn];
  if (scalarType !== undefined) {
    allowed([]);
    if (args.length !== 1) fail(`np.${fn}() takes one argument`);
    const { shape, items } = toNested(args[0]!, `np.${fn} argument`);
    return { kind: "ndarray", shape, items: items.map((v) => numpyCast(v, scalarType, fail)) };
  }
  return fail(`unsupported function ${name}()`);
}

function scalarArgument(value: PyValue | undefined, fail: (why: string) => never): PyScalar {
  if (value && ["int", "float", "bool", "str", "bytes"].includes(value.kind)) return value as PyScalar;
  return fail(`expected a number or string, got ${value ? describe(value) : "nothing"}`);
}

/** What np.array(x, dtype=...) does to one value: floats truncate to ints, out-of-range ints fail. */
function numpyCast(v: PyScalar, dtype: DataType, fail: (why: string) => never): PyScalar {
  if (dtype === DataType.DT_STRING) {
    if (v.kind === "str" || v.kind === "bytes") return v;
    return fail(`cannot make a string array from ${describe(v)}`);
  }
  if (dtype === DataType.DT_BOOL) {
    if (v.kind === "str" || v.kind === "bytes") return fail(`cannot make a bool array from ${describe(v)}`);
    return {
      kind: "bool",
      value: v.kind === "int" ? v.value !== 0n : v.kind === "float" ? v.value !== 0 : v.value,
    };
  }
  if (isFloatType(dtype) || dtype === DataType.DT_COMPLEX64 || dtype === DataType.DT_COMPLEX128) {
    const x = scalarNumber(v, fail);
    return { kind: "float", value: roundFloat(x, dtype) };
  }
  let int: bigint;
  if (v.kind === "float") {
    if (!Number.isFinite(v.value)) return fail(`cannot convert ${pyRepr(v)} to an integer`);
    int = BigInt(Math.trunc(v.value));
  } else if (v.kind === "int") int = v.value;
  else if (v.kind === "bool") int = v.value ? 1n : 0n;
  else return fail(`cannot make an integer array from ${describe(v)}`);
  const [min, max] = intRange(dtype);
  if (int < min || int > max) {
    return fail(`Python integer ${int} out of bounds for ${dtypeShortName(dtype)}`);
  }
  return { kind: "int", value: int };
}

function scalarNumber(v: PyScalar, fail: (why: string) => never): number {
  if (v.kind === "float") return v.value;
  if (v.kind === "int") return Number(v.value);
  if (v.kind === "bool") return v.value ? 1 : 0;
  return fail(`could not convert ${describe(v)} to a number`);
}

/** Flattens nested lists/tuples/arrays into a shape and row-major scalars; ragged nesting fails. */
function toNested(value: PyValue, what: string): { shape: number[]; items: PyScalar[] } {
  switch (value.kind) {
    case "int":
    case "float":
    case "bool":
    case "str":
    case "bytes":
      return { shape: [], items: [value] };
    case "ndarray":
      return { shape: [...value.shape], items: [...value.items] };
    case "list":
    case "tuple": {
      const children = value.items.map((item) => toNested(item, what));
      if (children.length === 0) return { shape: [0], items: [] };
      const first = children[0]!.shape;
      for (const child of children) {
        if (child.shape.length !== first.length || child.shape.some((d, i) => d !== first[i])) {
          throw invalidArgument(
            `${what} ${pyRepr(value)} has an inhomogeneous shape: its elements have shapes ${tupleRepr(first)} and ${tupleRepr(child.shape)}; a tensor needs a rectangular nesting`,
          );
        }
      }
      return { shape: [children.length, ...first], items: children.flatMap((c) => c.items) };
    }
    default:
      throw invalidArgument(`${what} cannot hold ${describe(value)}`);
  }
}

// --- Casting to the signature's dtype -------------------------------------------------------------

function isFloatType(dtype: DataType): boolean {
  return [DataType.DT_HALF, DataType.DT_BFLOAT16, DataType.DT_FLOAT, DataType.DT_DOUBLE].includes(dtype);
}

function roundFloat(x: number, dtype: DataType): number {
  switch (dtype) {
    case DataType.DT_HALF:
      return halfToFloat(floatToHalf(x));
    case DataType.DT_BFLOAT16:
      return bfloat16ToFloat(floatToBfloat16(x));
    case DataType.DT_FLOAT:
    case DataType.DT_COMPLEX64:
      return Math.fround(x);
    default:
      return x;
  }
}

function intRange(dtype: DataType): [bigint, bigint] {
  const info = fixedDType(dtype)!;
  const bits = BigInt(info.byteSize * 8);
  const signed = [Int8Array, Int16Array, Int32Array, BigInt64Array].includes(info.array as never);
  return signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

/**
 * Turns an expression's value into a tensor of the input's dtype: the shape is the value's own (a
 * scalar stays a scalar), each element must fit the dtype exactly (integers in range, no fractional
 * part for integer dtypes, finite values stay finite, strings only for string inputs).
 */
export function pyValueToTensor(value: PyValue, dtype: DataType, name: string): Tensor {
  const { shape, items } = toNested(value, `input "${name}":`);
  return new Tensor(dtype, shape, castScalars(items, dtype, name));
}

/** Converts a tensor (read from .npy) to the input's dtype with the same checks; same dtype passes through. */
export function castTensor(t: Tensor, dtype: DataType, name: string): Tensor {
  if (t.dtype === dtype) return t;
  const complexSource = t.dtype === DataType.DT_COMPLEX64 || t.dtype === DataType.DT_COMPLEX128;
  const complexTarget = dtype === DataType.DT_COMPLEX64 || dtype === DataType.DT_COMPLEX128;
  if (complexSource) {
    if (!complexTarget) {
      throw invalidArgument(
        `input "${name}" is ${dtypeShortName(dtype)}, the file holds ${dtypeShortName(t.dtype)} values`,
      );
    }
    const out =
      dtype === DataType.DT_COMPLEX64
        ? Float32Array.from(t.values as Float64Array)
        : Float64Array.from(t.values as Float32Array);
    checkFinite(t.values as Float64Array, out, dtype, name);
    return new Tensor(dtype, t.shape, out);
  }
  const plainFloat = (d: DataType) => d === DataType.DT_FLOAT || d === DataType.DT_DOUBLE;
  if (plainFloat(t.dtype) && plainFloat(dtype)) {
    // The common case (a float64 file for a float32 input) without a per-element detour.
    const values = t.values as Float32Array | Float64Array;
    const out = dtype === DataType.DT_FLOAT ? Float32Array.from(values) : Float64Array.from(values);
    checkFinite(values, out, dtype, name);
    return new Tensor(dtype, t.shape, out);
  }
  return new Tensor(dtype, t.shape, castScalars(tensorScalars(t), dtype, name));
}

function checkFinite(source: ArrayLike<number>, out: ArrayLike<number>, dtype: DataType, name: string): void {
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(source[i]!) && !Number.isFinite(out[i]!)) {
      throw invalidArgument(`input "${name}": ${source[i]} does not fit in ${dtypeShortName(dtype)}`);
    }
  }
}

function tensorScalars(t: Tensor): PyScalar[] {
  if (t.dtype === DataType.DT_STRING) return t.strings.map((value) => ({ kind: "bytes", value }));
  const values = t.values;
  const out: PyScalar[] = new Array(t.size);
  for (let i = 0; i < t.size; i++) {
    const v = values[i]!;
    if (t.dtype === DataType.DT_BOOL) out[i] = { kind: "bool", value: v !== 0 };
    else if (t.dtype === DataType.DT_HALF) out[i] = { kind: "float", value: halfToFloat(v as number) };
    else if (t.dtype === DataType.DT_BFLOAT16)
      out[i] = { kind: "float", value: bfloat16ToFloat(v as number) };
    else if (isFloatType(t.dtype)) out[i] = { kind: "float", value: v as number };
    else out[i] = { kind: "int", value: BigInt(v) };
  }
  return out;
}

function castScalars(items: readonly PyScalar[], dtype: DataType, name: string): NumericArray | Uint8Array[] {
  const bad = (v: PyScalar, why: string): never => {
    throw invalidArgument(`input "${name}" is ${dtypeShortName(dtype)}: ${pyRepr(v)} ${why}`);
  };
  if (dtype === DataType.DT_STRING) {
    const encoder = new TextEncoder();
    return items.map((v) => {
      if (v.kind === "bytes") return v.value;
      if (v.kind === "str") return encoder.encode(v.value);
      return bad(v, "is not a string");
    });
  }
  const info = fixedDType(dtype);
  if (!info || dtype === DataType.DT_INVALID)
    throw invalidArgument(`input "${name}" has dtype ${dtypeName(dtype)}, which run cannot feed`);
  const n = items.length;
  const isComplex = dtype === DataType.DT_COMPLEX64 || dtype === DataType.DT_COMPLEX128;
  if (isFloatType(dtype) || isComplex) {
    const out = new info.array(n * info.lanes) as Float32Array | Float64Array | Uint16Array;
    items.forEach((v, i) => {
      if (v.kind === "str" || v.kind === "bytes") bad(v, "is a string, not a number");
      const x = v.kind === "float" ? v.value : v.kind === "int" ? Number(v.value) : v.value ? 1 : 0;
      const rounded = roundFloat(x, dtype);
      if (Number.isFinite(x) && !Number.isFinite(rounded)) bad(v, "does not fit (it overflows to infinity)");
      if (dtype === DataType.DT_HALF) out[i] = floatToHalf(x);
      else if (dtype === DataType.DT_BFLOAT16) out[i] = floatToBfloat16(x);
      else out[i * info.lanes] = x;
    });
    return out;
  }
  if (dtype === DataType.DT_BOOL) {
    const out = new Uint8Array(n);
    items.forEach((v, i) => {
      if (v.kind === "bool") out[i] = v.value ? 1 : 0;
      else if (
        (v.kind === "int" && (v.value === 0n || v.value === 1n)) ||
        (v.kind === "float" && (v.value === 0 || v.value === 1))
      )
        out[i] = Number(v.value);
      else bad(v, "is not a bool (True, False, 0 or 1)");
    });
    return out;
  }
  const [min, max] = intRange(dtype);
  const big = info.array === BigInt64Array || info.array === BigUint64Array;
  const out = new info.array(n);
  for (const [i, v] of items.entries()) {
    let int: bigint;
    if (v.kind === "int") int = v.value;
    else if (v.kind === "bool") int = v.value ? 1n : 0n;
    else if (v.kind === "float") {
      if (!Number.isInteger(v.value)) bad(v, "is not an integer");
      int = BigInt(v.value);
    } else int = bad(v, "is a string, not a number");
    if (int < min || int > max) bad(v, `is out of range [${min}, ${max}]`);
    (out as unknown as (number | bigint)[])[i] = big ? int : Number(int);
  }
  return out;
}

// --- tf.Example inputs --------------------------------------------------------------------------------

/**
 * saved_model_cli's --input_examples value: a list of dicts, each a tf.Example whose features are lists;
 * a list's first element decides its kind (float → float_list, int or bool → int64_list, str/bytes →
 * bytes_list). Returns the serialized Examples as a DT_STRING [N] tensor.
 */
export function examplesTensor(value: PyValue, name: string): Tensor {
  if (value.kind !== "list") {
    throw invalidArgument(
      `--input_examples "${name}": tf.Example input must be a list of dictionaries, but ${pyRepr(value)} is ${describe(value)}`,
    );
  }
  const serialized = value.items.map((example, index) => {
    if (example.kind !== "dict") {
      throw invalidArgument(
        `--input_examples "${name}": example ${index} must be a dictionary, not ${describe(example)}`,
      );
    }
    const feature: Record<string, Feature> = {};
    for (const [key, list] of example.entries) {
      if (key.kind !== "str")
        throw invalidArgument(
          `--input_examples "${name}": feature names must be strings, got ${pyRepr(key)}`,
        );
      if (key.value in feature)
        throw invalidArgument(`--input_examples "${name}": feature "${key.value}" is given twice`);
      feature[key.value] = exampleFeature(key.value, list, name);
    }
    return toBinary(ExampleSchema, create(ExampleSchema, { features: { feature } }));
  });
  return new Tensor(DataType.DT_STRING, [serialized.length], serialized);
}

function exampleFeature(featureName: string, list: PyValue, input: string): Feature {
  const where = `--input_examples "${input}": feature "${featureName}"`;
  if (list.kind !== "list" && list.kind !== "tuple") {
    throw invalidArgument(`${where}: feature value must be a list, but ${pyRepr(list)} is ${describe(list)}`);
  }
  const items = list.items;
  const first = items[0];
  if (!first)
    throw invalidArgument(`${where}: the list is empty, so its type (float, int or bytes) is unknown`);
  const mismatch = (v: PyValue, kind: string): never => {
    throw invalidArgument(
      `${where}: ${pyRepr(v)} does not fit a ${kind} list (the first value decides the kind)`,
    );
  };
  if (first.kind === "float") {
    const value = items.map((v) =>
      v.kind === "float"
        ? v.value
        : v.kind === "int"
          ? Number(v.value)
          : v.kind === "bool"
            ? Number(v.value)
            : mismatch(v, "float"),
    );
    return { kind: { case: "floatList", value: { value } } } as Feature;
  }
  if (first.kind === "str" || first.kind === "bytes") {
    const encoder = new TextEncoder();
    const value = items.map((v) =>
      v.kind === first.kind
        ? v.kind === "str"
          ? encoder.encode(v.value)
          : (v as { value: Uint8Array }).value
        : mismatch(v, first.kind),
    );
    return { kind: { case: "bytesList", value: { value } } } as Feature;
  }
  if (first.kind === "int" || first.kind === "bool") {
    const value = items.map((v) => {
      const int = v.kind === "int" ? v.value : v.kind === "bool" ? BigInt(v.value) : mismatch(v, "int64");
      if (int < -(2n ** 63n) || int >= 2n ** 63n)
        throw invalidArgument(`${where}: ${int} does not fit in int64`);
      return int;
    });
    return { kind: { case: "int64List", value: { value } } } as Feature;
  }
  throw invalidArgument(
    `${where}: Type ${describe(first)} for value ${pyRepr(first)} is not supported for tf.train.Feature.`,
  );
}

/** Python's repr of a shape tuple: (), (2,), (2, 3). */
function tupleRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

// --- Messages ------------------------------------------------------------------------------------------

function describe(v: PyValue): string {
  switch (v.kind) {
    case "ndarray":
      return "a numpy array";
    case "dtype":
      return `the dtype ${v.name}`;
    case "none":
      return "None";
    default:
      return `a ${v.kind}`;
  }
}

/** A short Python-style rendering of a value for error messages. */
function pyRepr(v: PyValue): string {
  switch (v.kind) {
    case "int":
      return String(v.value);
    case "float":
      return Number.isNaN(v.value)
        ? "nan"
        : !Number.isFinite(v.value)
          ? v.value > 0
            ? "inf"
            : "-inf"
          : Number.isInteger(v.value) && Math.abs(v.value) < 1e16
            ? `${v.value}.0`
            : String(v.value);
    case "bool":
      return v.value ? "True" : "False";
    case "str":
      return `'${v.value}'`;
    case "bytes":
      return `b'${Buffer.from(v.value).toString("latin1")}'`;
    case "none":
      return "None";
    case "list":
      return `[${v.items.map(pyRepr).join(", ")}]`;
    case "tuple":
      return `(${v.items.map(pyRepr).join(", ")}${v.items.length === 1 ? "," : ""})`;
    case "dict":
      return `{${v.entries.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
    case "ndarray":
      return `array of shape ${tupleRepr(v.shape)}`;
    case "dtype":
      return v.name;
  }
}
