// A SavedModel around a GraphDef and its signatures: the SavedModel/MetaGraphDef/SignatureDef wrapping
// every exported model needs, so that model writers (exporter, tests, benches) only build the graph.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { GraphDef } from "../proto/gen/tensorflow/core/framework/graph_pb.js";
import type { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { TensorInfoSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { type SavedModel, SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import type { SaverDefSchema } from "../proto/gen/tensorflow/core/protobuf/saver_pb.js";
import { shapeToProto } from "../tensor/shape.js";

/** One signature input or output: a graph tensor with its dtype and shape (-1 = unknown dimension). */
export interface TensorSpec {
  readonly dtype: DataType;
  readonly shape: readonly number[];
  /** The graph tensor; default `<alias>:0` (the alias names the node). */
  readonly tensor?: string;
}

/** A SignatureDef: inputs and outputs by alias, and its method (default predict). */
export interface SignatureSpec {
  readonly inputs: Readonly<Record<string, TensorSpec>>;
  readonly outputs: Readonly<Record<string, TensorSpec>>;
  readonly methodName?: string;
}

/** What else the one MetaGraphDef carries besides the graph and signatures. */
export interface MetaGraphExtras {
  /** Tags (default ["serve"]) and version strings of the MetaInfoDef. */
  readonly metaInfoDef?: { tags?: string[]; tensorflowVersion?: string; metaGraphVersion?: string };
  /** The Saver's names, for models with variables. */
  readonly saverDef?: MessageInitShape<typeof SaverDefSchema>;
}

const PREDICT = "tensorflow/serving/predict";

/**
 * A TensorInfo naming `tensor` (e.g. "x:0") with its dtype and shape.
 *
 * @example
 * const info = tensorInfo("x:0", DataType.DT_FLOAT, [-1, 3]);
 */
export function tensorInfo(
  tensor: string,
  dtype: DataType,
  shape: readonly number[],
): MessageInitShape<typeof TensorInfoSchema> {
  return { encoding: { case: "name", value: tensor }, dtype, tensorShape: shapeToProto(shape) };
}

const infos = (specs: Readonly<Record<string, TensorSpec>>) =>
  Object.fromEntries(
    Object.entries(specs).map(([alias, s]) => [
      alias,
      tensorInfo(s.tensor ?? `${alias}:0`, s.dtype, s.shape),
    ]),
  );

/**
 * A SavedModel (schema version 1) with one MetaGraphDef tagged "serve": `graphDef` and `signatures`
 * (by signature key), plus `extras`.
 *
 * @example
 * const savedModel = savedModelFromGraph(g.build(), {
 *   serving_default: {
 *     inputs: { x: { dtype: DataType.DT_FLOAT, shape: [-1, 3] } },
 *     outputs: { y: { dtype: DataType.DT_FLOAT, shape: [-1, 3] } },
 *   },
 * });
 * await writeSavedModel(dir, { savedModel });
 */
export function savedModelFromGraph(
  graphDef: GraphDef,
  signatures: Readonly<Record<string, SignatureSpec>>,
  extras: MetaGraphExtras = {},
): SavedModel {
  const signatureDef = Object.fromEntries(
    Object.entries(signatures).map(([key, s]) => [
      key,
      { inputs: infos(s.inputs), outputs: infos(s.outputs), methodName: s.methodName ?? PREDICT },
    ]),
  );
  return create(SavedModelSchema, {
    savedModelSchemaVersion: 1n,
    metaGraphs: [
      {
        metaInfoDef: { tags: ["serve"], ...extras.metaInfoDef },
        graphDef,
        ...(extras.saverDef ? { saverDef: extras.saverDef } : {}),
        signatureDef,
      },
    ],
  });
}
