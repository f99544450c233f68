import { create, type JsonObject, toJson } from "@bufbuild/protobuf";
import type { SignatureDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { SignatureDefMapSchema } from "../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";

/**
 * A SignatureDefMap as TF Serving's REST metadata endpoint prints it: proto JSON with snake_case
 * names and default-valued fields included (dim sizes as strings, `"unknown_rank": false`, `"defaults": {}`).
 *
 * @example
 * signatureDefMapJson(bundle.signatures).signature_def.serving_default.method_name; // "tensorflow/serving/predict"
 */
export function signatureDefMapJson(signatures: ReadonlyMap<string, SignatureDef>): JsonObject {
  const map = create(SignatureDefMapSchema, { signatureDef: Object.fromEntries(signatures) });
  return toJson(SignatureDefMapSchema, map, {
    alwaysEmitImplicit: true,
    useProtoFieldName: true,
  }) as JsonObject;
}

/**
 * The body of TF Serving's `GET /v1/models/{name}[/versions/{v}]/metadata`: model_spec (resolved version,
 * empty signature_name) and the signature map nested under `metadata.signature_def`, with no `@type`.
 */
export function modelMetadataJson(
  name: string,
  version: bigint | string,
  signatures: ReadonlyMap<string, SignatureDef>,
): JsonObject {
  return {
    model_spec: { name, signature_name: "", version: String(version) },
    metadata: { signature_def: signatureDefMapJson(signatures) },
  };
}
