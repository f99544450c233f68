// Typed access to NodeDef attrs, and AttrValue construction for nodes the passes create.
import { create } from "@bufbuild/protobuf";
import { type AttrValue, AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import type { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { type PartialShape, shapeFromProto } from "../tensor/shape.js";

/** A node's attrs by name, as GraphNode and NodeDef hold them. */
export type Attrs = Readonly<Record<string, AttrValue>>;

/** The `type` attr `name`, or undefined. */
export function attrType(attrs: Attrs, name: string): DataType | undefined {
  const v = attrs[name]?.value;
  return v?.case === "type" ? v.value : undefined;
}

/** The `int` attr `name` as a number, or undefined. */
export function attrInt(attrs: Attrs, name: string): number | undefined {
  const v = attrs[name]?.value;
  return v?.case === "i" ? Number(v.value) : undefined;
}

/** The `bool` attr `name`, or undefined. */
export function attrBool(attrs: Attrs, name: string): boolean | undefined {
  const v = attrs[name]?.value;
  return v?.case === "b" ? v.value : undefined;
}

/** The `string` attr `name` decoded as UTF-8, or undefined. */
export function attrString(attrs: Attrs, name: string): string | undefined {
  const v = attrs[name]?.value;
  return v?.case === "s" ? Buffer.from(v.value).toString("utf8") : undefined;
}

/** The `shape` attr `name` (-1 unknown dims, null unknown rank), or undefined when absent. */
export function attrShape(attrs: Attrs, name: string): PartialShape | undefined {
  const v = attrs[name]?.value;
  return v?.case === "shape" ? shapeFromProto(v.value) : undefined;
}

/** The `list(int)` attr `name` as numbers, or undefined. */
export function attrInts(attrs: Attrs, name: string): number[] | undefined {
  const v = attrs[name]?.value;
  return v?.case === "list" ? v.value.i.map(Number) : undefined;
}

/** The `list(type)` attr `name`, or undefined. */
export function attrTypes(attrs: Attrs, name: string): DataType[] | undefined {
  const v = attrs[name]?.value;
  return v?.case === "list" ? [...v.value.type] : undefined;
}

/** The `list(shape)` attr `name` (such as `_output_shapes`), or undefined. */
export function attrShapes(attrs: Attrs, name: string): PartialShape[] | undefined {
  const v = attrs[name]?.value;
  return v?.case === "list" ? v.value.shape.map((s) => shapeFromProto(s)) : undefined;
}

/** The function name of a `func` attr (`f` of StatefulPartitionedCall, `then_branch` of If), or undefined. */
export function attrFuncName(attrs: Attrs, name: string): string | undefined {
  const v = attrs[name]?.value;
  return v?.case === "func" ? v.value.name : undefined;
}

export const typeAttr = (type: DataType): AttrValue =>
  create(AttrValueSchema, { value: { case: "type", value: type } });
export const intAttr = (i: number): AttrValue =>
  create(AttrValueSchema, { value: { case: "i", value: BigInt(i) } });
export const typeListAttr = (types: readonly DataType[]): AttrValue =>
  create(AttrValueSchema, { value: { case: "list", value: { type: [...types] } } });
