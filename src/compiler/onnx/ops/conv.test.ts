import { describe, it } from "node:test";
import { numElements } from "../../../tensor/tensor.js";
import {
  assertClose,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  f32,
  forEachIndex,
  i32,
  node,
  numbers,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";
import { toChannelsFirstPerm, toChannelsLastPerm, transposeTensor } from "./layout.js";

type Padding = "SAME" | "VALID" | { explicit: [number, number][] };

interface Window {
  out: number;
  begin: number;
}

/** TF's output size and leading pad for one spatial dim. */
function window(padding: Padding, size: number, k: number, s: number, d: number, dim: number): Window {
  const span = (k - 1) * d + 1;
  if (padding === "VALID") return { out: Math.ceil((size - span + 1) / s), begin: 0 };
  if (padding === "SAME") {
    const out = Math.ceil(size / s);
    return { out, begin: Math.floor(Math.max((out - 1) * s + span - size, 0) / 2) };
  }
  const [b, e] = padding.explicit[dim]!;
  return { out: Math.floor((size + b + e - span) / s) + 1, begin: b };
}

/**
 * Channels-last convolution by nested loops: x [N, ...spatial, C], w [...k, C/groups, Cout] (depthwise: [...k, C, M]).
 */
function convReference(
  x: Tensor,
  w: Tensor,
  strides: number[],
  dilations: number[],
  padding: Padding,
  depthwise = false,
): Tensor {
  const spatial = x.rank - 2;
  const channels = x.shape[x.rank - 1]!;
  const kernel = w.shape.slice(0, spatial);
  const groupIn = w.shape[spatial]!;
  const outChannels = depthwise ? groupIn * w.shape[spatial + 1]! : w.shape[spatial + 1]!;
  const groups = depthwise ? channels : channels / groupIn;
  const perGroupOut = outChannels / groups;
  const windows = kernel.map((k, d) => window(padding, x.shape[d + 1]!, k, strides[d]!, dilations[d]!, d));
  const outShape = [x.shape[0]!, ...windows.map((wd) => wd.out), outChannels];
  const values: number[] = [];
  forEachIndex(outShape, (index) => {
    const [n, co] = [index[0]!, index[spatial + 1]!];
    const group = Math.floor(co / perGroupOut);
    let sum = 0;
    forEachIndex(kernel, (k) => {
      const pos = k.map((kd, d) => index[d + 1]! * strides[d]! + kd * dilations[d]! - windows[d]!.begin);
      if (pos.some((p, d) => p < 0 || p >= x.shape[d + 1]!)) return;
      if (depthwise) {
        const m = co % w.shape[spatial + 1]!;
        sum += at(x, [n, ...pos, group]) * at(w, [...k, group, m]);
        return;
      }
      for (let ci = 0; ci < groupIn; ci++) {
        sum += at(x, [n, ...pos, group * groupIn + ci]) * at(w, [...k, ci, co]);
      }
    });
    values.push(sum);
  });
  return f32(outShape, values);
}

/** TF attrs for a conv of rank 4/5 given spatial strides/dilations in NHWC or NCHW order. */
function convAttrs(strides: number[], dilations: number[], padding: Padding, nchw: boolean) {
  const full = (v: number[]) => (nchw ? [1, 1, ...v] : [1, ...v, 1]);
  const attrs: Record<string, ReturnType<typeof attr.ints>> = {
    strides: attr.ints(full(strides)),
    dilations: attr.ints(full(dilations)),
    padding: attr.string(typeof padding === "string" ? padding : "EXPLICIT"),
    data_format: attr.string(
      nchw ? (strides.length === 3 ? "NCDHW" : "NCHW") : strides.length === 3 ? "NDHWC" : "NHWC",
    ),
  };
  if (typeof padding !== "string") {
    const pairs = padding.explicit.flat();
    attrs.explicit_paddings = attr.ints(nchw ? [0, 0, 0, 0, ...pairs] : [0, 0, ...pairs, 0, 0]);
  }
  return attrs;
}

const toNchw = (t: Tensor) => transposeTensor(t, toChannelsFirstPerm(t.rank));
const toNhwc = (t: Tensor) => transposeTensor(t, toChannelsLastPerm(t.rank));

interface ConvCase {
  name: string;
  op?: string;
  x: number[];
  w: number[];
  strides: number[];
  dilations: number[];
  padding: Padding;
  depthwise?: boolean;
}

const CASES: ConvCase[] = [
  {
    name: "VALID 3x3",
    x: [2, 6, 5, 3],
    w: [3, 3, 3, 4],
    strides: [1, 1],
    dilations: [1, 1],
    padding: "VALID",
  },
  {
    name: "SAME 3x3 stride 2",
    x: [1, 7, 6, 2],
    w: [3, 3, 2, 3],
    strides: [2, 2],
    dilations: [1, 1],
    padding: "SAME",
  },
  {
    name: "SAME 2x2 even kernel",
    x: [1, 5, 5, 2],
    w: [2, 2, 2, 2],
    strides: [1, 1],
    dilations: [1, 1],
    padding: "SAME",
  },
  {
    name: "SAME dilation 2",
    x: [1, 7, 7, 2],
    w: [3, 3, 2, 2],
    strides: [1, 1],
    dilations: [2, 2],
    padding: "SAME",
  },
  {
    name: "VALID stride (2,1) dilation (1,2)",
    x: [2, 8, 8, 1],
    w: [3, 2, 1, 2],
    strides: [2, 1],
    dilations: [1, 2],
    padding: "VALID",
  },
  {
    name: "EXPLICIT pads",
    x: [1, 5, 4, 2],
    w: [3, 3, 2, 3],
    strides: [1, 2],
    dilations: [1, 1],
    padding: {
      explicit: [
        [1, 2],
        [0, 1],
      ],
    },
  },
  {
    name: "grouped (input 4 channels, filter 2)",
    x: [1, 5, 5, 4],
    w: [3, 3, 2, 6],
    strides: [1, 1],
    dilations: [1, 1],
    padding: "SAME",
  },
];

describe("Conv2D", () => {
  for (const c of CASES) {
    for (const nchw of [false, true]) {
      it(`${c.name} ${nchw ? "NCHW" : "NHWC"} (constant filter)`, async () => {
        const x = randomF32(c.x, 1);
        const w = randomF32(c.w, 2);
        const expected = convReference(x, w, c.strides, c.dilations, c.padding);
        const [y] = await runOnce(
          [
            constNode("w", w),
            node("Conv2D", "y", ["x", "w"], convAttrs(c.strides, c.dilations, c.padding, nchw)),
          ],
          { x: nchw ? toNchw(x) : x },
          ["y"],
        );
        assertClose(nchw ? toNhwc(y!) : y!, expected, { rel: 1e-5, abs: 1e-5 });
      });
    }
  }

  it("a fed (non-constant) filter is transposed by a Transpose node", async () => {
    const c = CASES[1]!;
    const x = randomF32(c.x, 3);
    const w = randomF32(c.w, 4);
    const [y] = await runOnce(
      [node("Conv2D", "y", ["x", "w"], convAttrs(c.strides, c.dilations, c.padding, false))],
      { x, w },
      ["y"],
    );
    assertClose(y!, convReference(x, w, c.strides, c.dilations, c.padding), { rel: 1e-5, abs: 1e-5 });
  });

  it("SAME padding with a dynamic batch and spatial size runs at two input sizes", async () => {
    const w = randomF32([3, 3, 2, 2], 5);
    const attrs = convAttrs([2, 2], [1, 1], "SAME", false);
    const compiled = await compileSegment({
      nodes: [constNode("w", w), node("Conv2D", "y", ["x", "w"], attrs)],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, -1, -1, 2] }],
      outputs: ["y"],
    });
    try {
      for (const shape of [
        [1, 5, 5, 2],
        [3, 8, 7, 2],
      ]) {
        const x = randomF32(shape, shape[0]);
        const [y] = await compiled.run(x);
        assertClose(y!, convReference(x, w, [2, 2], [1, 1], "SAME"), { rel: 1e-5, abs: 1e-5 });
      }
    } finally {
      await compiled.session.release();
    }
  });

  it("SAME with dilations and unknown spatial sizes pads in the graph (two input sizes)", async () => {
    const w = randomF32([3, 2, 2, 3], 16);
    const attrs = convAttrs([2, 1], [2, 3], "SAME", false);
    const compiled = await compileSegment({
      nodes: [constNode("w", w), node("Conv2D", "y", ["x", "w"], attrs)],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, -1, -1, 2] }],
      outputs: ["y"],
    });
    try {
      for (const shape of [
        [1, 6, 7, 2],
        [2, 9, 4, 2],
      ]) {
        const x = randomF32(shape, 17);
        const [y] = await compiled.run(x);
        assertClose(y!, convReference(x, w, [2, 1], [2, 3], "SAME"), { rel: 1e-5, abs: 1e-5 });
      }
    } finally {
      await compiled.session.release();
    }
  });

  it("Conv1D as Keras lowers it: ExpandDims → Conv2D → Squeeze", async () => {
    const x = randomF32([2, 9, 3], 6);
    const w1 = randomF32([1, 3, 3, 4], 7);
    const nodes = [
      constNode("axis", i32([], [1])),
      constNode("w", w1),
      node("ExpandDims", "x4", ["x", "axis"]),
      node("Conv2D", "conv", ["x4", "w"], convAttrs([1, 2], [1, 1], "SAME", false)),
      node("Squeeze", "y", ["conv"], { squeeze_dims: attr.ints([1]) }),
    ];
    const [y] = await runOnce(nodes, { x }, ["y"]);
    const expected = convReference(f32([2, 1, 9, 3], numbers(x)), w1, [1, 2], [1, 1], "SAME");
    assertClose(y!, f32([2, 5, 4], numbers(expected)), { rel: 1e-5, abs: 1e-5 });
  });
});

describe("DepthwiseConv2dNative", () => {
  const depthwiseCases: ConvCase[] = [
    {
      name: "SAME multiplier 2",
      x: [1, 6, 6, 3],
      w: [3, 3, 3, 2],
      strides: [1, 1],
      dilations: [1, 1],
      padding: "SAME",
    },
    {
      name: "VALID stride 2 multiplier 1",
      x: [2, 7, 5, 4],
      w: [3, 3, 4, 1],
      strides: [2, 2],
      dilations: [1, 1],
      padding: "VALID",
    },
    {
      name: "EXPLICIT dilation 2",
      x: [1, 6, 6, 2],
      w: [2, 2, 2, 3],
      strides: [1, 1],
      dilations: [2, 2],
      padding: {
        explicit: [
          [1, 1],
          [2, 0],
        ],
      },
    },
  ];
  for (const c of depthwiseCases) {
    for (const nchw of [false, true]) {
      it(`${c.name} ${nchw ? "NCHW" : "NHWC"}`, async () => {
        const x = randomF32(c.x, 8);
        const w = randomF32(c.w, 9);
        const attrs = convAttrs(c.strides, c.dilations, c.padding, nchw);
        const [y] = await runOnce(
          [constNode("w", w), node("DepthwiseConv2dNative", "y", ["x", "w"], attrs)],
          { x: nchw ? toNchw(x) : x },
          ["y"],
        );
        const expected = convReference(x, w, c.strides, c.dilations, c.padding, true);
        assertClose(nchw ? toNhwc(y!) : y!, expected, { rel: 1e-5, abs: 1e-5 });
      });
    }
  }

  it("a fed depthwise filter is reshaped and transposed in the graph", async () => {
    const x = randomF32([1, 5, 5, 3], 10);
    const w = randomF32([3, 3, 3, 2], 11);
    const [y] = await runOnce(
      [node("DepthwiseConv2dNative", "y", ["x", "w"], convAttrs([1, 1], [1, 1], "SAME", false))],
      { x, w },
      ["y"],
    );
    assertClose(y!, convReference(x, w, [1, 1], [1, 1], "SAME", true), { rel: 1e-5, abs: 1e-5 });
  });
});

describe("Conv3D", () => {
  for (const nchw of [false, true]) {
    it(`SAME stride 2 ${nchw ? "NCDHW" : "NDHWC"}`, async () => {
      const x = randomF32([1, 4, 5, 4, 2], 12);
      const w = randomF32([2, 3, 2, 2, 3], 13);
      const [y] = await runOnce(
        [constNode("w", w), node("Conv3D", "y", ["x", "w"], convAttrs([2, 2, 1], [1, 1, 1], "SAME", nchw))],
        { x: nchw ? toNchw(x) : x },
        ["y"],
      );
      assertClose(nchw ? toNhwc(y!) : y!, convReference(x, w, [2, 2, 1], [1, 1, 1], "SAME"), {
        rel: 1e-5,
        abs: 1e-5,
      });
    });
  }
});

/** The input gradient of a channels-last Conv2D: scatter dy through the filter. */
function convBackpropInputReference(
  inputShape: number[],
  w: Tensor,
  dy: Tensor,
  strides: number[],
  padding: Padding,
): Tensor {
  const values = new Float64Array(numElements(inputShape));
  const kernel = w.shape.slice(0, 2);
  const windows = kernel.map((k, d) => window(padding, inputShape[d + 1]!, k, strides[d]!, 1, d));
  const [inC, outC] = [w.shape[2]!, w.shape[3]!];
  forEachIndex(dy.shape, ([n, oy, ox, co]) => {
    forEachIndex(kernel, ([ky, kx]) => {
      const y = oy! * strides[0]! + ky! - windows[0]!.begin;
      const x = ox! * strides[1]! + kx! - windows[1]!.begin;
      if (y < 0 || x < 0 || y >= inputShape[1]! || x >= inputShape[2]!) return;
      for (let ci = 0; ci < inC; ci++) {
        const offset = ((n! * inputShape[1]! + y) * inputShape[2]! + x) * inC + ci;
        values[offset]! += at(dy, [n!, oy!, ox!, co!]) * at(w, [ky!, kx!, ci, co!]);
      }
    });
  });
  void outC;
  return f32(inputShape, Array.from(values));
}

describe("Conv2DBackpropInput (Conv2DTranspose)", () => {
  const cases: { name: string; input: number[]; w: number[]; strides: number[]; padding: Padding }[] = [
    { name: "SAME stride 2", input: [1, 6, 6, 2], w: [3, 3, 2, 3], strides: [2, 2], padding: "SAME" },
    {
      name: "SAME stride 2 odd size",
      input: [2, 7, 5, 1],
      w: [3, 3, 1, 2],
      strides: [2, 2],
      padding: "SAME",
    },
    {
      name: "VALID stride 2 (output padding)",
      input: [1, 8, 7, 2],
      w: [3, 2, 2, 2],
      strides: [2, 2],
      padding: "VALID",
    },
    {
      name: "EXPLICIT stride 1",
      input: [1, 5, 5, 2],
      w: [3, 3, 2, 2],
      strides: [1, 1],
      padding: {
        explicit: [
          [1, 0],
          [2, 1],
        ],
      },
    },
  ];
  for (const c of cases) {
    for (const nchw of [false, true]) {
      it(`${c.name} ${nchw ? "NCHW" : "NHWC"}`, async () => {
        const windows = c.w
          .slice(0, 2)
          .map((k, d) => window(c.padding, c.input[d + 1]!, k, c.strides[d]!, 1, d));
        const dyShape = [c.input[0]!, ...windows.map((wd) => wd.out), c.w[3]!];
        const dy = randomF32(dyShape, 14);
        const w = randomF32(c.w, 15);
        const sizes = nchw ? [c.input[0]!, c.input[3]!, c.input[1]!, c.input[2]!] : c.input;
        const [y] = await runOnce(
          [
            constNode("sizes", i32([4], sizes)),
            constNode("w", w),
            node(
              "Conv2DBackpropInput",
              "y",
              ["sizes", "w", "dy"],
              convAttrs(c.strides, [1, 1], c.padding, nchw),
            ),
          ],
          { dy: nchw ? toNchw(dy) : dy },
          ["y"],
        );
        const expected = convBackpropInputReference(c.input, w, dy, c.strides, c.padding);
        assertClose(nchw ? toNhwc(y!) : y!, expected, { rel: 1e-5, abs: 1e-5 });
      });
    }
  }
});
