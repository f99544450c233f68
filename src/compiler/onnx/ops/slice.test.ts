import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertTensorEqual,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  fromIndex,
  i32,
  i64,
  make,
  node,
  runOnce,
  seeded,
  type Tensor,
} from "../onnx.test-helpers.js";

interface Masks {
  begin?: number;
  end?: number;
  ellipsis?: number;
  newAxis?: number;
  shrink?: number;
}

/**
 * TF's StridedSlice semantics written out directly (strided_slice_op.cc BuildDenseSpec + canonical
 * bounds): returns the output shape and the input index of every output element.
 */
function stridedSliceReference(
  x: Tensor,
  begin: number[],
  end: number[],
  strides: number[],
  m: Masks,
): Tensor {
  const bit = (mask: number | undefined, i: number) => (((mask ?? 0) >> i) & 1) === 1;
  let count = begin.length;
  let ellipsisMask = m.ellipsis ?? 0;
  const [b, e, s] = [[...begin], [...end], [...strides]];
  if (ellipsisMask === 0) {
    // No ellipsis: TF appends an implicit one.
    ellipsisMask = 1 << count;
    b.push(0);
    e.push(0);
    s.push(1);
    count++;
  }
  const rank = x.rank;
  const ellipsisAt = [...Array(count).keys()].find((i) => bit(ellipsisMask, i))!;
  const isNew = (i: number) => !bit(ellipsisMask, i) && bit(m.newAxis, i);
  const newAfter = [...Array(count).keys()].filter((i) => i > ellipsisAt && isNew(i)).length;
  type Dense = { begin: number; end: number; stride: number; bm: boolean; em: boolean; shrink: boolean };
  const dense: Dense[] = [];
  const finalShape: (number | "new")[] = [];
  for (let i = 0; i < count; i++) {
    if (i === ellipsisAt) {
      const next = Math.min(rank - (count - i) + 1 + newAfter, rank);
      while (dense.length < next) {
        finalShape.push(dense.length);
        dense.push({ begin: 0, end: 0, stride: 1, bm: true, em: true, shrink: false });
      }
    } else if (isNew(i)) {
      finalShape.push("new");
    } else {
      const shrink = bit(m.shrink, i);
      if (!shrink) finalShape.push(dense.length);
      dense.push({ begin: b[i]!, end: e[i]!, stride: s[i]!, bm: bit(m.begin, i), em: bit(m.end, i), shrink });
    }
  }
  const picks = dense.map((d, dim) => {
    const n = x.shape[dim]!;
    if (d.shrink) return [d.begin < 0 ? n + d.begin : d.begin];
    const canonical = (v: number, masked: boolean, isEnd: boolean) => {
      if (masked) return d.stride > 0 ? (isEnd ? n : 0) : isEnd ? -1 : n - 1;
      const fwd = v < 0 ? n + v : v;
      return d.stride > 0 ? Math.min(Math.max(fwd, 0), n) : Math.min(Math.max(fwd, -1), n - 1);
    };
    const start = canonical(d.begin, d.bm, false);
    const stop = canonical(d.end, d.em, true);
    const list: number[] = [];
    for (let i = start; d.stride > 0 ? i < stop : i > stop; i += d.stride) list.push(i);
    return list;
  });
  const outShape = finalShape.map((f) => (f === "new" ? 1 : picks[f]!.length));
  const keptDims = finalShape.map((f, pos) => [f, pos] as const).filter(([f]) => f !== "new");
  return fromIndex(x.dtype, outShape, (index) => {
    const source = picks.map((p) => p[0]!);
    for (const [f, pos] of keptDims) source[f as number] = picks[f as number]![index[pos]!]!;
    return at(x, source);
  });
}

const X = fromIndex(DataType.DT_FLOAT, [4, 5, 3], ([i, j, k]) => i! * 100 + j! * 10 + k!);

interface Case {
  label: string;
  /** The result shape numpy gives for the label's expression (checks the reference itself). */
  numpyShape?: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks?: Masks;
}

/** Python slice syntax in the labels; each case checks against the TF reference above. */
const CASES: Case[] = [
  { label: "x[1:3]", numpyShape: [2, 5, 3], begin: [1], end: [3], strides: [1] },
  {
    label: "x[::-1]",
    numpyShape: [4, 5, 3],
    begin: [0],
    end: [0],
    strides: [-1],
    masks: { begin: 1, end: 1 },
  },
  { label: "x[-1]", numpyShape: [5, 3], begin: [-1], end: [0], strides: [1], masks: { shrink: 1 } },
  {
    label: "x[1, :, 2]",
    numpyShape: [5],
    begin: [1, 0, 2],
    end: [2, 0, 3],
    strides: [1, 1, 1],
    masks: { shrink: 5, begin: 2, end: 2 },
  },
  {
    label: "x[..., 1]",
    numpyShape: [4, 5],
    begin: [0, 1],
    end: [0, 2],
    strides: [1, 1],
    masks: { ellipsis: 1, shrink: 2 },
  },
  {
    label: "x[:, None, 2:]",
    numpyShape: [4, 1, 3, 3],
    begin: [0, 0, 2],
    end: [0, 0, 0],
    strides: [1, 1, 1],
    masks: { begin: 1, end: 5, newAxis: 2 },
  },
  {
    label: "x[1:-1:2, ::-2]",
    numpyShape: [1, 3, 3],
    begin: [1, 0],
    end: [-1, 0],
    strides: [2, -2],
    masks: { begin: 2, end: 2 },
  },
  {
    label: "x[0, ..., ::2]",
    numpyShape: [5, 2],
    begin: [0, 0, 0],
    end: [1, 0, 0],
    strides: [1, 1, 2],
    masks: { shrink: 1, ellipsis: 2, begin: 4, end: 4 },
  },
  { label: "x[-10:10, 3:-10:-1]", numpyShape: [4, 4, 3], begin: [-10, 3], end: [10, -10], strides: [1, -1] },
  {
    label: "x[..., None]",
    numpyShape: [4, 5, 3, 1],
    begin: [0, 0],
    end: [0, 0],
    strides: [1, 1],
    masks: { ellipsis: 1, newAxis: 2 },
  },
  {
    label: "x[None, ..., -2]",
    numpyShape: [1, 4, 5],
    begin: [0, 0, -2],
    end: [0, 0, -1],
    strides: [1, 1, 1],
    masks: { newAxis: 1, ellipsis: 2, shrink: 4 },
  },
  {
    label: "x[3:0:-2, -1, ::-1]",
    numpyShape: [2, 3],
    begin: [3, -1, 0],
    end: [0, 0, 0],
    strides: [-2, 1, -1],
    masks: { shrink: 2, begin: 4, end: 4 },
  },
  {
    label: "x[:, :, :]",
    numpyShape: [4, 5, 3],
    begin: [0, 0, 0],
    end: [0, 0, 0],
    strides: [1, 1, 1],
    masks: { begin: 7, end: 7 },
  },
  { label: "x[2:2]", numpyShape: [0, 5, 3], begin: [2], end: [2], strides: [1] },
];

describe("StridedSlice", () => {
  it("every mask combination in one model (int32 and int64 specs)", async () => {
    const nodes = CASES.flatMap((c, k) => {
      const make32 = k % 2 === 0;
      const spec = (name: string, v: number[]) =>
        constNode(`${name}${k}`, make32 ? i32([v.length], v) : i64([v.length], v));
      const attrs = {
        begin_mask: attr.int(c.masks?.begin ?? 0),
        end_mask: attr.int(c.masks?.end ?? 0),
        ellipsis_mask: attr.int(c.masks?.ellipsis ?? 0),
        new_axis_mask: attr.int(c.masks?.newAxis ?? 0),
        shrink_axis_mask: attr.int(c.masks?.shrink ?? 0),
      };
      return [
        spec("b", c.begin),
        spec("e", c.end),
        spec("s", c.strides),
        node("StridedSlice", `y${k}`, ["x", `b${k}`, `e${k}`, `s${k}`], attrs),
      ];
    });
    const outputs = await runOnce(
      nodes,
      { x: X },
      CASES.map((_, k) => `y${k}`),
    );
    CASES.forEach((c, k) => {
      const expected = stridedSliceReference(X, c.begin, c.end, c.strides, c.masks ?? {});
      assert.deepEqual([...expected.shape], c.numpyShape, `reference shape of ${c.label}`);
      try {
        assertTensorEqual(outputs[k]!, expected);
      } catch (error: unknown) {
        throw new Error(`${c.label}: ${(error as Error).message}`);
      }
    });
  });

  it("random specs with all masks against the reference (seeded)", async () => {
    const random = seeded(400, 42, 0, 1);
    let r = 0;
    const next = () => random[r++ % random.length]!;
    const cases: Case[] = [];
    for (let k = 0; k < 24; k++) {
      const count = 1 + Math.floor(next() * 3);
      const ellipsisBit = next() < 0.3 ? 1 << Math.floor(next() * count) : 0;
      const newAxis = next() < 0.3 ? (1 << Math.floor(next() * count)) & ~ellipsisBit : 0;
      const shrinkBits = next() < 0.4 ? (1 << Math.floor(next() * count)) & ~ellipsisBit & ~newAxis : 0;
      const begin: number[] = [];
      const end: number[] = [];
      const strides: number[] = [];
      for (let i = 0; i < count; i++) {
        const stride = [1, 2, -1, -2, 3][Math.floor(next() * 5)]!;
        const shrink = ((shrinkBits >> i) & 1) === 1;
        const b = Math.floor(next() * 7) - 3;
        strides.push(shrink ? 1 : stride);
        begin.push(b);
        end.push(shrink ? b + 1 : Math.floor(next() * 9) - 4);
      }
      // Shrink indices must be in range for every dim they could land on (the smallest is 3).
      for (let i = 0; i < count; i++)
        if ((shrinkBits >> i) & 1) begin[i] = Math.max(-3, Math.min(begin[i]!, 2));
      cases.push({
        label: `random ${k}`,
        begin,
        end,
        strides,
        masks: {
          begin: Math.floor(next() * 8) & ~shrinkBits,
          end: Math.floor(next() * 8) & ~shrinkBits,
          ellipsis: ellipsisBit,
          newAxis,
          shrink: shrinkBits,
        },
      });
    }
    const nodes = cases.flatMap((c, k) => [
      constNode(`b${k}`, i32([c.begin.length], c.begin)),
      constNode(`e${k}`, i32([c.end.length], c.end)),
      constNode(`s${k}`, i32([c.strides.length], c.strides)),
      node("StridedSlice", `y${k}`, ["x", `b${k}`, `e${k}`, `s${k}`], {
        begin_mask: attr.int(c.masks!.begin!),
        end_mask: attr.int(c.masks!.end!),
        ellipsis_mask: attr.int(c.masks!.ellipsis!),
        new_axis_mask: attr.int(c.masks!.newAxis!),
        shrink_axis_mask: attr.int(c.masks!.shrink!),
      }),
    ]);
    const outputs = await runOnce(
      nodes,
      { x: X },
      cases.map((_, k) => `y${k}`),
    );
    cases.forEach((c, k) => {
      const expected = stridedSliceReference(X, c.begin, c.end, c.strides, c.masks!);
      try {
        assertTensorEqual(outputs[k]!, expected);
      } catch (error: unknown) {
        throw new Error(`${JSON.stringify(c)}: ${(error as Error).message}`);
      }
    });
  });

  it("x[:, 1] on int64 data with a dynamic batch", async () => {
    const compiled = await compileSegment({
      nodes: [
        constNode("b", i32([2], [0, 1])),
        constNode("e", i32([2], [0, 2])),
        constNode("s", i32([2], [1, 1])),
        node(
          "StridedSlice",
          "y",
          ["x", "b", "e", "s"],
          { begin_mask: attr.int(1), end_mask: attr.int(1), shrink_axis_mask: attr.int(2) },
          [DataType.DT_INT64],
        ),
      ],
      inputs: [{ name: "x", dtype: DataType.DT_INT64, shape: [-1, 3] }],
      outputs: ["y"],
    });
    try {
      for (const batch of [1, 4]) {
        const x = fromIndex(DataType.DT_INT64, [batch, 3], ([i, j]) => i! * 3 + j!);
        const [y] = await compiled.run(x);
        assertTensorEqual(
          y!,
          i64(
            [batch],
            Array.from({ length: batch }, (_, i) => i * 3 + 1),
          ),
        );
      }
    } finally {
      await compiled.session.release();
    }
  });
});

describe("Slice / ReverseV2", () => {
  it("Slice with constant begin/size (size -1 = to the end)", async () => {
    const [y] = await runOnce(
      [
        constNode("b", i32([3], [1, 2, 0])),
        constNode("s", i32([3], [2, -1, 2])),
        node("Slice", "y", ["x", "b", "s"]),
      ],
      { x: X },
      ["y"],
    );
    assertTensorEqual(
      y!,
      fromIndex(DataType.DT_FLOAT, [2, 3, 2], ([i, j, k]) => at(X, [i! + 1, j! + 2, k!])),
    );
  });

  it("Slice with fed int32 begin/size", async () => {
    const [y] = await runOnce(
      [node("Slice", "y", ["x", "b", "s"])],
      { x: X, b: i32([3], [2, 0, 1]), s: i32([3], [-1, 2, 1]) },
      ["y"],
    );
    assertTensorEqual(
      y!,
      fromIndex(DataType.DT_FLOAT, [2, 2, 1], ([i, j, k]) => at(X, [i! + 2, j!, k! + 1])),
    );
  });

  it("ReverseV2 over one axis, two axes (negative) and none", async () => {
    const n = make(DataType.DT_INT32, [2, 3], [1, 2, 3, 4, 5, 6]);
    const t = [DataType.DT_INT32];
    const [a, b, c] = await runOnce(
      [
        constNode("one", i32([1], [1])),
        constNode("two", i64([2], [0, -1])),
        constNode("none", i32([0], [])),
        node("ReverseV2", "a", ["n", "one"], {}, t),
        node("ReverseV2", "b", ["n", "two"], {}, t),
        node("ReverseV2", "c", ["n", "none"], {}, t),
      ],
      { n },
      ["a", "b", "c"],
    );
    assertTensorEqual(a!, i32([2, 3], [3, 2, 1, 6, 5, 4]));
    assertTensorEqual(b!, i32([2, 3], [6, 5, 4, 3, 2, 1]));
    assertTensorEqual(c!, n);
  });
});
