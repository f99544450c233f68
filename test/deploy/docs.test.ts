// Keeps the deployment docs honest: every server command line they show (`ts-serving --flag...`, and
// the flags after the image name in `docker run ... ts-serving --flag...`) parses with the real flag
// table, subcommands they show exist, and the TF Serving-style `docker run` is there verbatim.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../fixtures.js";
import { parseServerArgs } from "./server-args.js";

const DOCS = ["docs/deployment.md", "docs/from-tf-serving.md"];
/** The image's environment, for the entrypoint line the docs show. */
const IMAGE_ENV: Record<string, string> = {
  GRPC_PORT: "8500",
  PORT: "8501",
  MODEL_NAME: "model",
  MODEL_BASE_PATH: "/models",
};
const SUBCOMMANDS = ["inspect", "show", "run", "push", "rollout", "rollback", "new-api-key"];

/** The shell command lines of a Markdown file's ```sh blocks, continuation lines joined. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const [, block] of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block ?? "").replace(/\\\n\s*/g, " ");
    for (const line of joined.split("\n"))
      if (line.trim() !== "" && !line.trim().startsWith("#")) lines.push(line);
  }
  return lines;
}

/** Splits a command line into words: quotes group, an unquoted ` #` starts a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/\s#.*$|'([^']*)'|"([^"]*)"|(\S+)/g)) {
    if (match[0].trimStart().startsWith("#") && match[1] === undefined && match[2] === undefined) break;
    out.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return out;
}

/**
 * What a line runs: the arguments after `ts-serving` for `ts-serving ...`, `npx ts-serving ...` and
 * `docker run ... ts-serving ...` (the image name is the last `ts-serving`); undefined for other lines.
 */
function tsServingArgs(tokens: string[]): string[] | undefined {
  const direct = tokens[0] === "npx" ? tokens.slice(1) : tokens;
  if (direct[0] === "ts-serving") return direct.slice(1);
  const image = tokens.lastIndexOf("ts-serving");
  if (tokens[0] === "docker" && tokens[1] === "run" && image > 0) return tokens.slice(image + 1);
  return undefined;
}

describe("deployment docs", () => {
  for (const doc of DOCS) {
    it(`${doc}: every ts-serving command line parses with the real flags and subcommands`, () => {
      const lines = shellLines(readFileSync(join(REPO_ROOT, doc), "utf8"));
      let servers = 0;
      for (const line of lines) {
        const args = tsServingArgs(words(line))
          ?.filter((t) => t !== "..." && t !== "$@")
          .map((t) => t.replace(/\$\{(\w+)\}/g, (_, name: string) => IMAGE_ENV[name] ?? ""));
        if (args === undefined) continue;
        const [first] = args;
        if (first === undefined || first.startsWith("-")) {
          assert.doesNotThrow(() => parseServerArgs(args), `${doc}: ${line}`);
          servers++;
        } else {
          assert.ok(SUBCOMMANDS.includes(first), `${doc}: unknown subcommand in: ${line}`);
        }
      }
      assert.ok(servers >= 3, `${doc}: found ${servers} server command lines`);
    });
  }

  it("links only to files that exist", () => {
    for (const doc of DOCS) {
      const text = readFileSync(join(REPO_ROOT, doc), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target ?? "")) continue;
        assert.ok(existsSync(join(REPO_ROOT, dirname(doc), target ?? "")), `${doc} links to ${target}`);
      }
    }
  });

  it("shows docker run exactly as TF Serving users know it", () => {
    const text = readFileSync(join(REPO_ROOT, "docs/deployment.md"), "utf8");
    assert.ok(
      text.includes(
        "docker run -p 8501:8501 -p 8500:8500 -v $PWD/models:/models -e MODEL_NAME=ranking ts-serving",
      ),
    );
    const side = readFileSync(join(REPO_ROOT, "docs/from-tf-serving.md"), "utf8");
    assert.ok(side.includes("-e MODEL_NAME=half_plus_two -t tensorflow/serving"));
    assert.ok(side.includes("-e MODEL_NAME=half_plus_two -t ts-serving"));
  });
});
