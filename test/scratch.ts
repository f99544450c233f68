import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

/**
 * A temporary directory for the tests of the calling file, removed after them. Returns a function
 * that names a fresh, not yet existing subdirectory on each call.
 *
 * @example
 * const freshDir = useScratchDir("bundle-test");
 * it("writes", async () => { await writeBundle(join(freshDir(), "variables"), tensors); });
 */
export function useScratchDir(prefix: string): (label?: string) => string {
  let root = "";
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `ts-serving-${prefix}-`));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return (label = "dir") => join(root, `${label}-${count++}`);
}
