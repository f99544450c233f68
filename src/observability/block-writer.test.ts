import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { BlockWriter } from "./block-writer.js";

describe("BlockWriter", () => {
  it("appends blocks in order, recycling buffers of its block size only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "block-writer-"));
    try {
      const path = join(dir, "nested", "out.log");
      const out = new BlockWriter(path, 64);
      const expected: string[] = [];
      for (let i = 0; i < 200; i++) {
        if (i % 50 === 7) {
          // A write larger than a block, in a buffer of its own: it must not come back from take().
          const long = Buffer.from(`${"L".repeat(100)}${i}\n`);
          out.write(long, long.length);
          expected.push(long.toString());
        } else {
          const block = out.take();
          assert.equal(block.length, 64);
          const text = `line ${i}\n`;
          out.write(block, block.write(text));
          expected.push(text);
        }
        if (i % 10 === 0) await nextTurn(); // let writes finish, so buffers are recycled meanwhile
      }
      await out.close();
      assert.equal(await readFile(path, "utf8"), expected.join(""));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
