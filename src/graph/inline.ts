// Function inlining: every StatefulPartitionedCall / PartitionedCall and every node whose op names a
// library function is replaced by the function body, recursively, so the compiler sees one flat graph.
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import {
  type AttrValue,
  AttrValueSchema,
  NameAttrListSchema,
} from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import type { FunctionDef } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import type { NodeDef } from "../proto/gen/tensorflow/core/framework/node_def_pb.js";
import type { OpDef } from "../proto/gen/tensorflow/core/framework/op_def_pb.js";
import { type Attrs, typeListAttr } from "./attrs.js";
import { lookupOpDef, makeNode } from "./import.js";
import type { Graph, GraphNode, TensorRef } from "./ir.js";
import { argLength, fillDefaultAttrs, flatOutputIndex, outputArgRange } from "./op-defs.js";
import { isVariableWriter } from "./variable-ops.js";

/** Ops that call the function named by their `f` attr. */
export const CALL_OPS: ReadonlySet<string> = new Set(["StatefulPartitionedCall", "PartitionedCall"]);

/** A resolved call: the function and the attrs its body placeholders are filled from. */
interface CallTarget {
  readonly fn: FunctionDef;
  readonly attrs: Attrs;
}

/** What an inlined call yields: its flat outputs (producer refs) and its control outputs (node names). */
export interface Expansion {
  readonly outputs: readonly TensorRef[];
  readonly controlOutputs: readonly string[];
}

const MAX_DEPTH = 64;

const fail = (message: string): ServingError => new ServingError(Code.INVALID_ARGUMENT, message);

/**
 * Inlines every function call of `graph`. A call node `c` becomes an `IdentityN` named `c` over the
 * inlined producers of its outputs (a `NoOp` when it has none) whose control inputs are the inlined
 * `control_ret` nodes, so fetches of `c:k` and control edges `^c` keep working; data consumers are
 * pointed straight at the producers. Body nodes are named `<call>/<inner>` (nested calls repeat this).
 * If/StatelessIf/While/StatelessWhile nodes stay as they are; their bodies remain in `functions`.
 *
 * @example
 * const flat = inlineFunctions(importGraph(bundle.metaGraph));
 * flat.nodes.get("StatefulPartitionedCall_5/StatefulPartitionedCall/Mul")?.op; // "Mul"
 */
export function inlineFunctions(graph: Graph): Graph {
  const out = new Map<string, GraphNode>();
  const emit = (node: GraphNode): void => {
    if (out.has(node.name)) throw fail(`inlining produced two nodes named ${node.name}`);
    out.set(node.name, node);
  };
  const expanded = new Map<string, Expansion | "pending">();
  const resolveTop = (ref: TensorRef): TensorRef => {
    const node = graph.nodes.get(ref.node);
    if (!node || !callTarget(node.op, node.attrs, graph.functions, node.name)) return ref;
    const exp = expandTop(node);
    const producer = exp.outputs[ref.index];
    if (!producer) throw fail(`${ref.node}:${ref.index}: the call has only ${exp.outputs.length} outputs`);
    return producer;
  };
  const expandTop = (node: GraphNode): Expansion => {
    const done = expanded.get(node.name);
    if (done === "pending") throw fail(`call ${node.name} depends on itself`);
    if (done) return done;
    expanded.set(node.name, "pending");
    const target = callTarget(node.op, node.attrs, graph.functions, node.name);
    if (!target) throw fail(`${node.name} is not a call`);
    const exp = expand(graph, emit, node.name, target, node.inputs.map(resolveTop), node.controlInputs, []);
    emit(callNode(node, exp));
    expanded.set(node.name, exp);
    return exp;
  };
  for (const node of graph.nodes.values()) {
    if (callTarget(node.op, node.attrs, graph.functions, node.name)) expandTop(node);
    else emit({ ...node, inputs: node.inputs.map(resolveTop) });
  }
  return { nodes: out, functions: graph.functions, opDefs: graph.opDefs };
}

/**
 * Inlines the body of `fn` on its own (nested calls too), as inlineFunctions does for a call: body
 * nodes are emitted as `<prefix>/<inner>` with their attr placeholders filled from `attrs` (the caller's,
 * e.g. a func attr's NameAttrList attrs); `args` are the tensors its flat inputs read. Control-flow
 * nodes in the body stay as they are. Used to compile control-flow bodies (see function-graph.ts).
 *
 * @example
 * const body = inlineFunctionBody(graph, graph.functions.get("while_body_3549")!, {}, args, "while_body_3549", emit);
 * body.outputs[0]; // { node: "while_body_3549/while/Identity", index: 0 }
 */
export function inlineFunctionBody(
  graph: Graph,
  fn: FunctionDef,
  attrs: Attrs,
  args: readonly TensorRef[],
  prefix: string,
  emit: (node: GraphNode) => void,
): Expansion {
  return expand(graph, emit, prefix, { fn, attrs }, args, [], []);
}

/** The node left in place of an inlined call: IdentityN over its outputs, or NoOp. */
function callNode(call: GraphNode, exp: Expansion): GraphNode {
  if (exp.outputs.length !== call.outputDTypes.length) {
    throw fail(
      `call ${call.name} declares ${call.outputDTypes.length} outputs, its function returns ${exp.outputs.length}`,
    );
  }
  const hasOutputs = exp.outputs.length > 0;
  return {
    name: call.name,
    op: hasOutputs ? "IdentityN" : "NoOp",
    inputs: exp.outputs,
    controlInputs: exp.controlOutputs,
    attrs: hasOutputs ? { T: typeListAttr(call.outputDTypes) } : {},
    outputDTypes: call.outputDTypes,
  };
}

function callTarget(
  op: string,
  attrs: Attrs,
  functions: ReadonlyMap<string, FunctionDef>,
  where: string,
): CallTarget | undefined {
  if (CALL_OPS.has(op)) {
    const f = attrs.f?.value;
    if (f?.case !== "func") throw fail(`${op} ${where} has no func attr "f"`);
    const fn = functions.get(f.value.name);
    if (!fn)
      throw new ServingError(
        Code.NOT_FOUND,
        `${where} calls ${f.value.name}, which is not in the function library`,
      );
    return { fn, attrs: f.value.attr };
  }
  const fn = functions.get(op);
  return fn ? { fn, attrs } : undefined;
}

/** Fills `placeholder` attrs of a body node (also inside func attrs) from the caller's attrs. */
function substitute(attrs: Attrs, from: Attrs, where: string): Record<string, AttrValue> {
  const result: Record<string, AttrValue> = {};
  for (const [key, attr] of Object.entries(attrs)) {
    const v = attr.value;
    if (v.case === "placeholder") {
      const filled = from[v.value];
      if (!filled)
        throw fail(`${where}: attr ${key} refers to placeholder ${v.value}, which the caller does not set`);
      result[key] = filled;
    } else if (v.case === "func" && Object.values(v.value.attr).some((a) => a.value.case === "placeholder")) {
      const inner = create(NameAttrListSchema, {
        name: v.value.name,
        attr: substitute(v.value.attr, from, where),
      });
      result[key] = create(AttrValueSchema, { value: { case: "func", value: inner } });
    } else {
      result[key] = attr;
    }
  }
  return result;
}

/** A body node before emission: its substituted attrs, OpDef, and call target when it is a call. */
interface BodyInfo {
  readonly def: NodeDef;
  readonly attrs: Record<string, AttrValue>;
  readonly opDef: OpDef | undefined;
  readonly call: CallTarget | undefined;
}

function expand(
  graph: Graph,
  emit: (node: GraphNode) => void,
  prefix: string,
  target: CallTarget,
  args: readonly TensorRef[],
  callControl: readonly string[],
  stack: readonly string[],
): Expansion {
  const { fn } = target;
  const sig = fn.signature;
  if (!sig) throw fail(`${prefix}: the called function has no signature`);
  if (stack.includes(sig.name))
    throw new ServingError(Code.UNIMPLEMENTED, `${prefix}: function ${sig.name} calls itself`);
  if (stack.length >= MAX_DEPTH)
    throw new ServingError(Code.UNIMPLEMENTED, `${prefix}: calls nest deeper than ${MAX_DEPTH}`);
  const callAttrs = fillDefaultAttrs(target.attrs, sig);
  const argRefs = new Map<string, readonly TensorRef[]>();
  let offset = 0;
  for (const arg of sig.inputArg) {
    const length = argLength({ name: prefix, attrs: callAttrs }, arg);
    argRefs.set(arg.name, args.slice(offset, offset + length));
    offset += length;
  }
  if (offset !== args.length)
    throw fail(`${prefix}: ${sig.name} takes ${offset} inputs, the call passes ${args.length}`);

  const defs = new Map(fn.nodeDef.map((def) => [def.name, def]));
  const infos = new Map<string, BodyInfo>();
  const info = (name: string): BodyInfo => {
    let found = infos.get(name);
    if (!found) {
      const def = defs.get(name);
      if (!def) throw fail(`${prefix}: function ${sig.name} refers to unknown node ${name}`);
      const raw = substitute(def.attr, callAttrs, `${prefix}/${name}`);
      const opDef = lookupOpDef(def.op, graph.opDefs, graph.functions);
      const attrs = opDef ? fillDefaultAttrs(raw, opDef) : raw;
      const call = callTarget(def.op, attrs, graph.functions, `${prefix}/${name}`);
      found = { def, attrs, opDef, call };
      infos.set(name, found);
    }
    return found;
  };
  const calls = new Map<string, Expansion | "pending">();
  const expandInner = (name: string): Expansion => {
    const done = calls.get(name);
    if (done === "pending") throw fail(`${prefix}/${name} depends on itself`);
    if (done) return done;
    calls.set(name, "pending");
    const { def, attrs, call } = info(name);
    if (!call) throw fail(`${prefix}/${name} is not a call`);
    const { data, control } = resolveInputs(def.input);
    const inner = `${prefix}/${name}`;
    const exp = expand(graph, emit, inner, call, data, [...control, ...callControl], [...stack, sig.name]);
    const declared = makeNode(
      { name: inner, op: def.op, inputs: data, controlInputs: control, attrs },
      graph.opDefs,
      graph.functions,
    );
    emit(callNode(declared, exp));
    calls.set(name, exp);
    return exp;
  };
  const outputRef = (name: string, index: number): TensorRef => {
    if (!info(name).call) return { node: `${prefix}/${name}`, index };
    const producer = expandInner(name).outputs[index];
    if (!producer) throw fail(`${prefix}/${name}:${index}: the call has no such output`);
    return producer;
  };
  const argRange = (name: string, outArg: string): TensorRef[] => {
    const { opDef, attrs } = info(name);
    if (!opDef)
      throw fail(`${prefix}/${name}: op ${info(name).def.op} is unknown, cannot resolve output ${outArg}`);
    const [start, end] = outputArgRange({ name: `${prefix}/${name}`, attrs }, opDef, outArg);
    return Array.from({ length: end - start }, (_, i) => outputRef(name, start + i));
  };
  // Function-body ref syntax: `arg`, `arg:k`, `node:outarg:k`, `node:outarg` (whole list), `node:k` (flat).
  const resolveRef = (text: string): TensorRef[] => {
    const [head = "", second, third] = text.split(":");
    const arg = argRefs.get(head);
    if (arg && !defs.has(head)) {
      if (second === undefined) return [...arg];
      const ref = arg[Number(second)];
      if (!/^\d+$/.test(second) || !ref) throw fail(`${prefix}: bad argument ref ${text}`);
      return [ref];
    }
    if (second === undefined) return [outputRef(head, 0)];
    if (third === undefined)
      return /^\d+$/.test(second) ? [outputRef(head, Number(second))] : argRange(head, second);
    const { opDef, attrs } = info(head);
    // An op no OpDef describes: assume its outputs form one arg, so `node:out:k` is flat index k.
    const index = opDef
      ? flatOutputIndex({ name: `${prefix}/${head}`, attrs }, opDef, second, Number(third))
      : Number(third);
    return [outputRef(head, index)];
  };
  const resolveControl = (name: string): string[] => {
    const arg = argRefs.get(name);
    if (arg && !defs.has(name)) return arg.map((ref) => ref.node);
    if (info(name).call) expandInner(name);
    return [`${prefix}/${name}`];
  };
  const resolveInputs = (inputs: readonly string[]): { data: TensorRef[]; control: string[] } => {
    const data: TensorRef[] = [];
    const control: string[] = [];
    for (const input of inputs) {
      if (input.startsWith("^")) control.push(...resolveControl(input.slice(1)));
      else data.push(...resolveRef(input));
    }
    return { data, control };
  };

  for (const def of fn.nodeDef) {
    const { attrs, opDef, call } = info(def.name);
    if (call) {
      expandInner(def.name);
      continue;
    }
    const { data, control } = resolveInputs(def.input);
    const effectful = opDef?.isStateful === true || isVariableWriter(def.op);
    const controlInputs = effectful && callControl.length > 0 ? [...control, ...callControl] : control;
    emit(
      makeNode(
        { name: `${prefix}/${def.name}`, op: def.op, inputs: data, controlInputs, attrs },
        graph.opDefs,
        graph.functions,
      ),
    );
  }
  const outputs = sig.outputArg.flatMap((arg) => {
    const ret = fn.ret[arg.name];
    if (ret === undefined)
      throw fail(`${prefix}: function ${sig.name} does not return its output ${arg.name}`);
    return resolveRef(ret);
  });
  const controlOutputs = Object.values(fn.controlRet).flatMap(resolveControl);
  return { outputs, controlOutputs };
}
