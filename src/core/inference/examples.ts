// Input (example_list / example_list_with_context) → the DT_STRING tensor of serialized tf.Examples
// that classify, regress and multi-inference signatures take (TF Serving's
// InputToSerializedExampleTensor, servables/tensorflow/util.cc).
import { toBinary } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import { type Example, ExampleSchema } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import type { Input } from "../../proto/gen/tensorflow_serving/apis/input_pb.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";

/**
 * The serialized examples of an Input, one per example. With example_list_with_context each one is
 * the serialized context followed by the serialized example: parsing that concatenation merges the
 * two messages, so a feature present in both takes the example's value.
 * No examples (or no kind set) → INVALID_ARGUMENT `Input is empty.`
 *
 * @example
 * serializedExamples(input).length; // number of examples
 */
export function serializedExamples(input: Input | undefined): Uint8Array[] {
  const kind = input?.kind;
  let serialized: Uint8Array[] = [];
  if (kind?.case === "exampleList") {
    serialized = kind.value.examples.map(serialize);
  } else if (kind?.case === "exampleListWithContext") {
    const { examples, context } = kind.value;
    const prefix = context ? serialize(context) : new Uint8Array(0);
    serialized = examples.map((example) => concat(prefix, serialize(example)));
  }
  if (serialized.length === 0) throw invalidArgument("Input is empty.");
  return serialized;
}

/**
 * The DT_STRING [N] tensor of serialized tf.Examples an Input stands for — what TF Serving feeds
 * to a classify or regress signature's single input.
 *
 * @example
 * const tensor = examplesTensor(request.input); // DT_STRING, shape [N]
 * await runner.run(new Map([["inputs", tensor]]));
 */
export function examplesTensor(input: Input | undefined): Tensor {
  const serialized = serializedExamples(input);
  return new Tensor(DataType.DT_STRING, [serialized.length], serialized);
}

const serialize = (example: Example): Uint8Array => toBinary(ExampleSchema, example);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
