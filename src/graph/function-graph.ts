// A library function as a graph of its own: what control-flow ops (While, If, Case) run. The body is
// inlined like any call (nested calls expanded, attr placeholders filled from the caller's attrs), its
// inputs become Placeholders to feed and its outputs the tensors to fetch.
import { Code, ServingError } from "../errors.js";
import type { FunctionDef } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import type { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { baseDType } from "../tensor/dtype.js";
import { type Attrs, attrShapes, typeAttr } from "./attrs.js";
import { makeNode } from "./import.js";
import { inlineFunctionBody } from "./inline.js";
import type { Graph, GraphNode, TensorRef } from "./ir.js";
import { argDTypes, fillDefaultAttrs } from "./op-defs.js";
import type { StaticShape } from "./shapes.js";

/** A function body ready to compile like a signature: feed `feeds`, fetch `fetches`, run `targets`. */
export interface FunctionGraph {
  /** The function's name (its signature's). */
  readonly name: string;
  /** The Placeholders standing for the inputs, and the inlined body; functions and OpDefs as the library's. */
  readonly graph: Graph;
  /** One Placeholder output per flat input (an arg of N tensors gives N feeds), in signature order. */
  readonly feeds: readonly TensorRef[];
  readonly feedDTypes: readonly DataType[];
  /** Static shape of each feed as the function records it (`_input_shapes`, arg `_output_shapes`), or null. */
  readonly feedShapes: readonly StaticShape[];
  /** The tensor each flat output reads (via `ret`), in signature order; may be a feed. */
  readonly fetches: readonly TensorRef[];
  readonly fetchDTypes: readonly DataType[];
  /** Nodes the function must run for their effects (`control_ret`). */
  readonly targets: readonly string[];
}

/**
 * Builds the graph of library function `name` instantiated with `attrs` (a func attr's NameAttrList
 * attrs: they fill the body's attr placeholders and the signature's type attrs). Input `k` of arg `a`
 * is the Placeholder `a` (an arg of one tensor) or `a/k`; body nodes are named `<name>/<node>`.
 *
 * @example
 * const body = functionGraph(graph, "while_body_3549");
 * body.feeds[0]; // { node: "while_while_loop_counter", index: 0 }
 * body.fetches[0]; // { node: "while_body_3549/while/Identity", index: 0 }
 */
export function functionGraph(
  library: Pick<Graph, "functions" | "opDefs">,
  name: string,
  attrs: Attrs = {},
): FunctionGraph {
  const fn = library.functions.get(name);
  if (!fn) throw new ServingError(Code.NOT_FOUND, `function ${name} is not in the function library`);
  const sig = fn.signature;
  if (!sig) throw new ServingError(Code.INVALID_ARGUMENT, `function ${name} has no signature`);
  const callAttrs = fillDefaultAttrs(attrs, sig);
  const nodes = new Map<string, GraphNode>();
  const emit = (node: GraphNode): void => {
    if (nodes.has(node.name))
      throw new ServingError(Code.INVALID_ARGUMENT, `function ${name}: two nodes named ${node.name}`);
    nodes.set(node.name, node);
  };
  const recorded = recordedInputShapes(fn);
  const feeds: TensorRef[] = [];
  const feedDTypes: DataType[] = [];
  const feedShapes: StaticShape[] = [];
  sig.inputArg.forEach((arg, argIndex) => {
    const dtypes = argDTypes({ name: `${name}/${arg.name}`, attrs: callAttrs }, arg).map(baseDType);
    dtypes.forEach((dtype, k) => {
      const placeholder =
        dtypes.length === 1 && !arg.numberAttr && !arg.typeListAttr ? arg.name : `${arg.name}/${k}`;
      emit(
        makeNode(
          {
            name: placeholder,
            op: "Placeholder",
            inputs: [],
            controlInputs: [],
            attrs: { dtype: typeAttr(dtype) },
          },
          library.opDefs,
          library.functions,
        ),
      );
      feeds.push({ node: placeholder, index: 0 });
      feedDTypes.push(dtype);
      feedShapes.push(recorded(argIndex, k, feeds.length - 1));
    });
  });
  const graphLike: Graph = { nodes, functions: library.functions, opDefs: library.opDefs };
  const body = inlineFunctionBody(graphLike, fn, attrs, feeds, name, emit);
  const fetchDTypes = sig.outputArg.flatMap((arg) =>
    argDTypes({ name: `${name}/${arg.name}`, attrs: callAttrs }, arg).map(baseDType),
  );
  if (fetchDTypes.length !== body.outputs.length) {
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      `function ${name} declares ${fetchDTypes.length} outputs, its body returns ${body.outputs.length}`,
    );
  }
  return {
    name,
    graph: graphLike,
    feeds,
    feedDTypes,
    feedShapes,
    fetches: body.outputs,
    fetchDTypes,
    targets: [...new Set(body.controlOutputs)],
  };
}

/**
 * The shape a function records for flat input `flat` (tensor `k` of arg `argIndex`): the arg's
 * `_output_shapes`, else the function's `_input_shapes`, else null.
 */
function recordedInputShapes(fn: FunctionDef): (argIndex: number, k: number, flat: number) => StaticShape {
  const inputShapes = attrShapes(fn.attr, "_input_shapes");
  return (argIndex, k, flat) => {
    const own = fn.argAttr[argIndex]?.attr;
    const shapes = own ? attrShapes(own, "_output_shapes") : undefined;
    return shapes?.[k] ?? inputShapes?.[flat] ?? null;
  };
}
