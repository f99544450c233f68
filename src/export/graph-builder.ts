import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type AttrValue, AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { type GraphDef, GraphDefSchema } from "../proto/gen/tensorflow/core/framework/graph_pb.js";
import { type NodeDef, NodeDefSchema } from "../proto/gen/tensorflow/core/framework/node_def_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { shapeToProto } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { tensorToProto } from "../tensor/tensor-proto.js";

type AttrInit = MessageInitShape<typeof AttrValueSchema>;

/** AttrValue constructors for NodeDef attrs. */
export const attr = {
  type: (dtype: DataType): AttrInit => ({ value: { case: "type", value: dtype } }),
  shape: (dims: readonly number[] | null): AttrInit => ({
    value: { case: "shape", value: shapeToProto(dims) },
  }),
  int: (i: number | bigint): AttrInit => ({ value: { case: "i", value: BigInt(i) } }),
  float: (f: number): AttrInit => ({ value: { case: "f", value: f } }),
  bool: (b: boolean): AttrInit => ({ value: { case: "b", value: b } }),
  string: (s: string): AttrInit => ({ value: { case: "s", value: new TextEncoder().encode(s) } }),
  tensor: (t: Tensor): AttrInit => ({ value: { case: "tensor", value: tensorToProto(t) } }),
  types: (dtypes: readonly DataType[]): AttrInit => ({
    value: { case: "list", value: { type: [...dtypes] } },
  }),
  ints: (values: readonly (number | bigint)[]): AttrInit => ({
    value: { case: "list", value: { i: values.map((v) => BigInt(v)) } },
  }),
};

/**
 * Builds a TensorFlow GraphDef node by node, with every attr explicit so that TensorFlow and
 * ts-serving read it the same way.
 *
 * @example
 * const g = new GraphBuilder();
 * const x = g.placeholder("x", DataType.DT_FLOAT, [-1, 1]);
 * g.op("Identity", "y", [x], { T: attr.type(DataType.DT_FLOAT) });
 */
export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly names = new Set<string>();

  /** Adds a node and returns its name (which is also the reference to its output 0). */
  op(op: string, name: string, inputs: readonly string[], attrs: Record<string, AttrInit> = {}): string {
    if (this.names.has(name)) throw new Error(`duplicate node name ${name}`);
    this.names.add(name);
    const attrMap: Record<string, AttrValue> = {};
    for (const [key, value] of Object.entries(attrs)) attrMap[key] = create(AttrValueSchema, value);
    this.nodes.push(create(NodeDefSchema, { name, op, input: [...inputs], attr: attrMap }));
    return name;
  }

  placeholder(name: string, dtype: DataType, shape: readonly number[] | null): string {
    return this.op("Placeholder", name, [], { dtype: attr.type(dtype), shape: attr.shape(shape) });
  }

  constant(name: string, value: Tensor): string {
    return this.op("Const", name, [], { dtype: attr.type(value.dtype), value: attr.tensor(value) });
  }

  /** A TF1 VariableV2 and its `<name>/read` Identity; returns the read tensor's name. */
  variable(name: string, dtype: DataType, shape: readonly number[]): string {
    this.op("VariableV2", name, [], {
      dtype: attr.type(dtype),
      shape: attr.shape(shape),
      container: attr.string(""),
      shared_name: attr.string(""),
    });
    return this.op("Identity", `${name}/read`, [name], { T: attr.type(dtype) });
  }

  /**
   * A TF1 Saver (V2 checkpoint format): `save/Const` is fed the variables prefix; `save/restore_all`
   * assigns every variable from the bundle (what TF Serving runs at load) and `save/control_dependency`
   * saves them.
   */
  saver(variables: readonly { name: string; dtype: DataType }[]): {
    filenameTensor: string;
    saveTensor: string;
    restoreOp: string;
  } {
    const names = variables.map((v) => v.name);
    const dtypes = attr.types(variables.map((v) => v.dtype));
    const filename = this.constant("save/Const", Tensor.fromStrings([], ["model"]));
    const keyInputs = (prefix: string) => [
      this.constant(`${prefix}/tensor_names`, Tensor.fromStrings([names.length], names)),
      this.constant(
        `${prefix}/shape_and_slices`,
        Tensor.fromStrings(
          [names.length],
          names.map(() => ""),
        ),
      ),
    ];
    const save = this.op("SaveV2", "save/SaveV2", [filename, ...keyInputs("save/SaveV2"), ...names], {
      dtypes,
    });
    const saved = this.op("Identity", "save/control_dependency", [filename, `^${save}`], {
      T: attr.type(DataType.DT_STRING),
    });
    this.op("RestoreV2", "save/RestoreV2", [filename, ...keyInputs("save/RestoreV2")], { dtypes });
    const assigns = variables.map((v, i) =>
      this.op(
        "Assign",
        i === 0 ? "save/Assign" : `save/Assign_${i}`,
        [v.name, `save/RestoreV2${i ? `:${i}` : ""}`],
        {
          T: attr.type(v.dtype),
          use_locking: attr.bool(true),
          validate_shape: attr.bool(true),
        },
      ),
    );
    const restoreAll = this.op(
      "NoOp",
      "save/restore_all",
      assigns.map((a) => `^${a}`),
    );
    return { filenameTensor: `${filename}:0`, saveTensor: `${saved}:0`, restoreOp: restoreAll };
  }

  build(producer = 1286): GraphDef {
    return create(GraphDefSchema, { node: this.nodes, versions: { producer } });
  }
}
