import type { GraphNode } from "../../graph/ir.js";
import type { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { Tensor } from "../../tensor/tensor.js";

/** A static shape: null for unknown rank, -1 for an unknown dimension. */
export type StaticShape = readonly number[] | null;

/** ONNX attribute values a handler can set; the builder picks the AttributeProto type from the JS type. */
export type OnnxAttribute =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | Tensor
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly (number | bigint)[] };

/**
 * What a TF→ONNX op handler sees while lowering one node into an ONNX segment.
 * Value names are ONNX value names; TF input i of the node is `input(i)`.
 */
export interface LoweringContext {
  readonly node: GraphNode;
  /** ONNX value name of the node's i-th data input. */
  input(i: number): string;
  inputDType(i: number): DataType;
  /** Static shape of input i as far as known. */
  inputShape(i: number): StaticShape;
  /** The value of input i when it is a constant (after folding), for handlers that need attrs from inputs. */
  constInput(i: number): Tensor | undefined;
  /** Emits an ONNX node; returns its output value names (fresh names unless given). */
  emit(
    opType: string,
    inputs: readonly string[],
    attrs?: Readonly<Record<string, OnnxAttribute>>,
    options?: { outputs?: number | readonly string[]; domain?: string },
  ): string[];
  /** Adds an initializer holding `value` and returns its value name. */
  constant(value: Tensor, nameHint?: string): string;
  /** Binds the node's flat output i to an ONNX value name. */
  setOutput(i: number, valueName: string): void;
  /** A fresh unique value name. */
  fresh(hint: string): string;
}

/** Lowers one TF op into ONNX nodes. Throws ServingError(UNIMPLEMENTED) for attr combinations it cannot express. */
export type OpHandler = (ctx: LoweringContext) => void;
