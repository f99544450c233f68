// OpDef lookup (the MetaGraphDef's stripped_op_list, then the built-in table) and what OpDefs tell a
// pass about a node: default attrs, the number and dtypes of its flat outputs, `node:arg:k` indices.
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors.js";
import {
  type AttrValue,
  type AttrValue_ListValue,
  AttrValue_ListValueSchema,
  AttrValueSchema,
} from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import {
  type OpDef,
  type OpDef_ArgDef,
  OpDef_ArgDefSchema,
  OpDef_AttrDefSchema,
  OpDefSchema,
} from "../proto/gen/tensorflow/core/framework/op_def_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { MetaGraphDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { shapeToProto } from "../tensor/shape.js";
import type { Attrs } from "./attrs.js";
import { BUILTIN_OP_SPECS } from "./op-table.js";

/** OpDefs by op name. */
export type OpDefs = ReadonlyMap<string, OpDef>;

/** What OpDef computations need of a node: its name (for messages) and attrs. */
export interface NodeAttrs {
  readonly name: string;
  readonly attrs: Attrs;
}

let builtin: Map<string, OpDef> | undefined;

/**
 * The built-in OpDefs (see op-table.ts), parsed once.
 *
 * @example
 * builtinOpDefs().get("MatMul")?.outputArg[0]?.name; // "product"
 */
export function builtinOpDefs(): OpDefs {
  builtin ??= new Map(BUILTIN_OP_SPECS.map((spec) => [opName(spec), parseOpSpec(spec)]));
  return builtin;
}

/**
 * The OpDefs for a MetaGraphDef: its `stripped_op_list` first (it matches the TF version that wrote the
 * graph), then the built-in table for ops the list lacks.
 */
export function opDefsFor(metaGraph: MetaGraphDef | undefined): OpDefs {
  const merged = new Map(builtinOpDefs());
  for (const op of metaGraph?.metaInfoDef?.strippedOpList?.op ?? []) merged.set(op.name, op);
  return merged;
}

/**
 * The node's attrs plus every OpDef attr default it lacks (TF2 writes graphs with
 * `stripped_default_attrs`). Returns a new record; the input is not changed.
 *
 * @example
 * fillDefaultAttrs({ T: typeAttr(DataType.DT_FLOAT) }, matMulDef).transpose_a; // b: false
 */
export function fillDefaultAttrs(attrs: Attrs, opDef: OpDef): Record<string, AttrValue> {
  const filled: Record<string, AttrValue> = { ...attrs };
  for (const def of opDef.attr) {
    if (filled[def.name] === undefined && def.defaultValue !== undefined) filled[def.name] = def.defaultValue;
  }
  return filled;
}

/** Number of tensors of one arg: 1, the value of its `number_attr`, or the length of its `type_list_attr`. */
export function argLength(node: NodeAttrs, arg: OpDef_ArgDef): number {
  if (arg.numberAttr) {
    const v = node.attrs[arg.numberAttr]?.value;
    if (v?.case !== "i")
      throw invalidArgument(`node ${node.name}: attr ${arg.numberAttr} (length of ${arg.name}) is missing`);
    return Number(v.value);
  }
  if (arg.typeListAttr) return argDTypes(node, arg).length;
  return 1;
}

/** The dtypes of the tensors of one arg. */
export function argDTypes(node: NodeAttrs, arg: OpDef_ArgDef): DataType[] {
  if (arg.typeListAttr) {
    const v = node.attrs[arg.typeListAttr]?.value;
    if (v?.case !== "list")
      throw invalidArgument(`node ${node.name}: attr ${arg.typeListAttr} (types of ${arg.name}) is missing`);
    return [...v.value.type];
  }
  let type = arg.type;
  if (type === DataType.DT_INVALID) {
    const v = node.attrs[arg.typeAttr]?.value;
    if (v?.case !== "type")
      throw invalidArgument(`node ${node.name}: attr ${arg.typeAttr} (type of ${arg.name}) is missing`);
    type = v.value;
  }
  const n = arg.numberAttr ? argLength(node, arg) : 1;
  return new Array<DataType>(n).fill(type);
}

/** The number of flat outputs of a node. */
export function outputArity(node: NodeAttrs, opDef: OpDef): number {
  return opDef.outputArg.reduce((sum, arg) => sum + argLength(node, arg), 0);
}

/** The dtype of each flat output of a node (`_REF` types as the OpDef gives them). */
export function outputDTypes(node: NodeAttrs, opDef: OpDef): DataType[] {
  return opDef.outputArg.flatMap((arg) => argDTypes(node, arg));
}

/**
 * The flat output range `[start, end)` of output arg `argName`: the sum of the lengths of the earlier
 * output args, plus this arg's length.
 */
export function outputArgRange(node: NodeAttrs, opDef: OpDef, argName: string): [number, number] {
  let start = 0;
  for (const arg of opDef.outputArg) {
    const length = argLength(node, arg);
    if (arg.name === argName) return [start, start + length];
    start += length;
  }
  throw invalidArgument(`node ${node.name}: op ${opDef.name} has no output arg "${argName}"`);
}

/**
 * The flat index of a function-body ref `node:argName:k`.
 *
 * @example
 * flatOutputIndex(parseExampleV2Node, parseExampleV2Def, "dense_values", 0); // after the sparse outputs
 */
export function flatOutputIndex(node: NodeAttrs, opDef: OpDef, argName: string, k: number): number {
  const [start, end] = outputArgRange(node, opDef, argName);
  if (k < 0 || start + k >= end) {
    throw invalidArgument(
      `node ${node.name}: output ${argName}:${k} is out of range (arg has ${end - start})`,
    );
  }
  return start + k;
}

const opName = (spec: string): string => spec.slice(0, spec.indexOf("("));

/** Splits at commas outside brackets, parentheses and strings. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last) parts.push(last);
  return parts;
}

const SPEC = /^(\w+)\((.*?)\) -> \((.*?)\)(?: \{(.*)\})?( stateful)?$/;

function dtypeByName(name: string): DataType | undefined {
  const value = (DataType as unknown as Record<string, number>)[`DT_${name.toUpperCase()}`];
  return value === undefined ? undefined : (value as DataType);
}

/** Parses one line of the built-in table (format in op-table.ts) into an OpDef. */
export function parseOpSpec(spec: string): OpDef {
  const m = SPEC.exec(spec);
  if (!m) throw new Error(`bad op spec: ${spec}`);
  const [, name = "", inputs = "", outputs = "", attrText = "", stateful] = m;
  const attrTypes = new Map<string, string>();
  const attr = splitTop(attrText).map((item) => {
    const am = /^(\w+):([\w()]+)(?:=(.*?))?(?:>=(-?\d+))?$/.exec(item);
    if (!am) throw new Error(`bad attr in op spec ${name}: ${item}`);
    const [, attrName = "", type = "", def, min] = am;
    attrTypes.set(attrName, type);
    return create(OpDef_AttrDefSchema, {
      name: attrName,
      type,
      defaultValue: def === undefined ? undefined : parseDefault(type, def),
      hasMinimum: min !== undefined,
      minimum: min === undefined ? 0n : BigInt(min),
    });
  });
  const arg = (item: string): OpDef_ArgDef => {
    const [argName = "", rawType = ""] = item.split(":");
    const isRef = rawType.startsWith("Ref(");
    let type = isRef ? rawType.slice(4, -1) : rawType;
    let numberAttr = "";
    const star = type.indexOf("*");
    if (star > 0) {
      numberAttr = type.slice(0, star);
      type = type.slice(star + 1);
    }
    const declared = attrTypes.get(type);
    const fixed = declared === undefined ? dtypeByName(type) : undefined;
    if (declared === undefined && fixed === undefined)
      throw new Error(`op spec ${name}: unknown type ${type}`);
    return create(OpDef_ArgDefSchema, {
      name: argName,
      type: fixed ?? DataType.DT_INVALID,
      typeAttr: declared === "type" ? type : "",
      typeListAttr: declared === "list(type)" ? type : "",
      numberAttr,
      isRef,
    });
  };
  return create(OpDefSchema, {
    name,
    inputArg: splitTop(inputs).map(arg),
    outputArg: splitTop(outputs).map(arg),
    attr,
    isStateful: stateful !== undefined,
  });
}

const listValue = (init: Partial<Pick<AttrValue_ListValue, "i" | "s" | "f" | "type">>): AttrValue_ListValue =>
  create(AttrValue_ListValueSchema, init);

function parseDefault(type: string, text: string): AttrValue {
  const value = (v: AttrValue["value"]): AttrValue => create(AttrValueSchema, { value: v });
  const list = (): string[] => splitTop(text.slice(1, -1));
  switch (type) {
    case "bool":
      return value({ case: "b", value: text === "true" });
    case "int":
      return value({ case: "i", value: BigInt(text) });
    case "float":
      return value({ case: "f", value: Number(text) });
    case "string":
      return value({ case: "s", value: Buffer.from(JSON.parse(text) as string, "utf8") });
    case "type":
      return value({ case: "type", value: dtypeByName(text) ?? DataType.DT_INVALID });
    case "shape":
      return value({ case: "shape", value: shapeToProto(text === "?" ? null : list().map(Number)) });
    case "list(int)":
      return value({ case: "list", value: listValue({ i: list().map(BigInt) }) });
    case "list(string)":
      return value({
        case: "list",
        value: listValue({ s: list().map((s) => Buffer.from(JSON.parse(s) as string, "utf8")) }),
      });
    case "list(float)":
      return value({ case: "list", value: listValue({ f: list().map(Number) }) });
    case "list(type)":
      return value({
        case: "list",
        value: listValue({ type: list().map((t) => dtypeByName(t) ?? DataType.DT_INVALID) }),
      });
    case "list(shape)":
      return value({ case: "list", value: listValue({}) });
    default:
      throw new Error(`op spec: no default syntax for attr type ${type}`);
  }
}
