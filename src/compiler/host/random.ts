import { Code, ServingError } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { fixedDType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import type { HostKernel, HostValue } from "./kernel.js";
import { attrInt, attrType, input, intValues } from "./util.js";

/**
 * Random ops. In served graphs they appear in variable initializers that TF1 main ops re-run and in
 * dropout that is value-neutral at inference (floor(keep_prob + U[0,1)) with keep_prob = 1). Seeded
 * ops (seed or seed2 set) give a fixed sequence per node; TF's own sequences (Philox) are not reproduced.
 */
function generator(node: GraphNode): () => number {
  const seed = attrInt(node, "seed", 0) ^ Math.imul(attrInt(node, "seed2", 0), 0x9e3779b1);
  return seededRandom(seed === 0 ? Math.floor(Math.random() * 2 ** 32) : seed);
}

/**
 * A small deterministic PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for a seed on
 * every machine (the SavedModel exporters use it for their weights too).
 *
 * @example
 * const next = seededRandom(1);
 * next(); // 0.6270739405881613
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floatTensor(
  node: GraphNode,
  inputs: readonly HostValue[],
  sample: (next: () => number) => number,
): Tensor {
  const shape = intValues(input(node, inputs, 0), "shape");
  const dtype = attrType(node, "dtype", DataType.DT_FLOAT);
  const info = fixedDType(dtype);
  if (!info || (dtype !== DataType.DT_FLOAT && dtype !== DataType.DT_DOUBLE)) {
    throw new ServingError(
      Code.UNIMPLEMENTED,
      `${node.op} ${node.name}: dtype ${DataType[dtype]} is not supported`,
    );
  }
  const next = generator(node);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = dtype === DataType.DT_FLOAT ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = sample(next);
  return new Tensor(dtype, shape, data);
}

/** Box–Muller: one standard normal sample from two uniforms. */
const normal = (next: () => number): number =>
  Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

export const RANDOM_KERNELS: Record<string, HostKernel> = {
  RandomUniform: (node, inputs) => [floatTensor(node, inputs, (next) => next())],
  RandomStandardNormal: (node, inputs) => [floatTensor(node, inputs, normal)],
  TruncatedNormal: (node, inputs) => [
    floatTensor(node, inputs, (next) => {
      for (;;) {
        const x = normal(next);
        if (Math.abs(x) <= 2) return x;
      }
    }),
  ],
};
