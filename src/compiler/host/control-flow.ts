// Functional control flow on the host: While/StatelessWhile, If/StatelessIf, Case/StatelessCase.
// Their cond/body/branch functions are compiled once at load, like any signature (ONNX segments and
// host steps); per request the kernel runs them, loop-carried values staying JS values (tensors,
// TensorLists, resource handles) between iterations.
import { Code, invalidArgument, ServingError } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import type { NameAttrList } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../../tensor/dtype.js";
import type { AsyncHostKernel, HostValue } from "./kernel.js";
import { readValue, scalarInt } from "./util.js";

/** The control-flow ops the host runs. */
export const CONTROL_FLOW_OPS: ReadonlySet<string> = new Set([
  "While",
  "StatelessWhile",
  "If",
  "StatelessIf",
  "Case",
  "StatelessCase",
]);

export const isControlFlowOp = (op: string): boolean => CONTROL_FLOW_OPS.has(op);

/** A library function compiled into a plan: flat inputs in, flat outputs out. */
export interface CompiledFunction {
  readonly name: string;
  readonly inputCount: number;
  readonly outputCount: number;
  run(inputs: readonly HostValue[]): Promise<HostValue[]>;
}

/**
 * Compiles the function a func attr names, instantiated with the attr's NameAttrList attrs. The
 * compiler caches by name and attrs, so a function used by several nodes is compiled once.
 */
export type FunctionCompiler = (func: NameAttrList) => Promise<CompiledFunction>;

export interface ControlFlowOptions {
  /** A While running more iterations than this fails with RESOURCE_EXHAUSTED instead of hanging the request. */
  readonly maxLoopIterations: number;
}

/** Default bound on While iterations per request. */
export const DEFAULT_MAX_LOOP_ITERATIONS = 100_000;

/**
 * Builds the kernel of a control-flow node, compiling its functions now (at load). The kernel runs per
 * request and never compiles.
 *
 * @example
 * const kernel = await controlFlowKernel(whileNode, compileFunction, { maxLoopIterations: 1e6 });
 * const outputs = await kernel(whileNode, inputs, state);
 */
export async function controlFlowKernel(
  node: GraphNode,
  compile: FunctionCompiler,
  options: ControlFlowOptions,
): Promise<AsyncHostKernel> {
  const where = `${node.op} node ${node.name}`;
  const compileAttr = async (attr: string, func: NameAttrList): Promise<CompiledFunction> => {
    try {
      return await compile(func);
    } catch (error: unknown) {
      const e = ServingError.from(error);
      throw new ServingError(e.code, `${where}: ${attr} function ${func.name}: ${e.message}`, {
        cause: error,
      });
    }
  };
  switch (node.op) {
    case "While":
    case "StatelessWhile": {
      const cond = await compileAttr("cond", funcAttr(node, "cond"));
      const body = await compileAttr("body", funcAttr(node, "body"));
      const n = node.inputs.length;
      expectArity(where, cond, n, 1);
      expectArity(where, body, n, n);
      return whileKernel(cond, body, options.maxLoopIterations);
    }
    case "If":
    case "StatelessIf": {
      const thenBranch = await compileAttr("then_branch", funcAttr(node, "then_branch"));
      const elseBranch = await compileAttr("else_branch", funcAttr(node, "else_branch"));
      for (const branch of [thenBranch, elseBranch])
        expectArity(where, branch, node.inputs.length - 1, node.outputDTypes.length);
      return async (_node, inputs) => {
        const branch = toBool(inputs[0], `${where}: cond`) ? thenBranch : elseBranch;
        return branch.run(inputs.slice(1));
      };
    }
    case "Case":
    case "StatelessCase": {
      const funcs = funcListAttr(node, "branches");
      if (funcs.length === 0) throw invalidArgument(`${where}: Must provide at least one case branch`);
      const branches: CompiledFunction[] = [];
      for (const [i, func] of funcs.entries()) branches.push(await compileAttr(`branches[${i}]`, func));
      for (const branch of branches)
        expectArity(where, branch, node.inputs.length - 1, node.outputDTypes.length);
      return async (_node, inputs) => {
        const index = scalarInt(readValue(required(inputs[0], `${where}: branch_index`)), "branch_index");
        // Out of range runs the last branch, the default (as TF's Case).
        const branch = branches[index >= 0 && index < branches.length ? index : branches.length - 1]!;
        return branch.run(inputs.slice(1));
      };
    }
    default:
      throw new ServingError(Code.INTERNAL, `${node.op} is not a control-flow op`);
  }
}

function whileKernel(cond: CompiledFunction, body: CompiledFunction, maxIterations: number): AsyncHostKernel {
  return async (node, inputs) => {
    const what = `${node.op} node ${node.name}: cond ${cond.name}`;
    let values: HostValue[] = [...inputs];
    for (let iteration = 0; ; iteration++) {
      const [c] = await cond.run(values);
      if (!toBool(c, what)) return values;
      if (iteration >= maxIterations) {
        throw new ServingError(
          Code.RESOURCE_EXHAUSTED,
          `${node.op} node ${node.name}: the loop ran ${maxIterations} iterations without its condition ${cond.name} turning false (the limit of ts-serving; runaway loop?)`,
        );
      }
      values = await body.run(values);
    }
  };
}

/**
 * TF's ToBool for a cond: a scalar is true when non-zero (non-empty for a string); any other tensor
 * is true when it has elements.
 */
export function toBool(value: HostValue | undefined, what: string): boolean {
  const t = readValue(required(value, what));
  if (t.rank !== 0) return t.size > 0;
  if (t.dtype === DataType.DT_STRING) return (t.strings[0]?.length ?? 0) > 0;
  const data = t.values;
  switch (t.dtype) {
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      // Bit patterns: ±0 is false.
      return ((data[0] as number) & 0x7fff) !== 0;
    case DataType.DT_COMPLEX64:
    case DataType.DT_COMPLEX128:
      return data[0] !== 0 || data[1] !== 0;
    default: {
      const v = data[0];
      if (v === undefined) throw invalidArgument(`${what}: empty scalar`);
      return typeof v === "bigint" ? v !== 0n : v !== 0;
    }
  }
}

function required(value: HostValue | undefined, what: string): HostValue {
  if (value === undefined) throw invalidArgument(`${what} is missing`);
  return value;
}

function expectArity(where: string, fn: CompiledFunction, inputs: number, outputs: number): void {
  if (fn.inputCount !== inputs || fn.outputCount !== outputs) {
    throw invalidArgument(
      `${where}: function ${fn.name} takes ${fn.inputCount} inputs and returns ${fn.outputCount} outputs; the node needs ${inputs} and ${outputs}`,
    );
  }
}

function funcAttr(node: GraphNode, name: string): NameAttrList {
  const v = node.attrs[name]?.value;
  if (v?.case !== "func") throw invalidArgument(`${node.op} node ${node.name} has no func attr "${name}"`);
  return v.value;
}

function funcListAttr(node: GraphNode, name: string): NameAttrList[] {
  const v = node.attrs[name]?.value;
  if (v?.case !== "list")
    throw invalidArgument(`${node.op} node ${node.name} has no list(func) attr "${name}"`);
  return [...v.value.func];
}
