// Lints the Dockerfile without a Docker daemon: dockerfile-utils' validator (a maintained Dockerfile
// linter: instructions, flags, durations, ports, JSON forms...), then the structure the image promises
// (multi-stage, pinned bases, npm ci, production dependencies only, non-root, health check, TF
// Serving's ports and environment) and a build context that holds every file the Dockerfile copies.
// When a daemon is available, `docker build -t ts-serving .` is the full check (docs/deployment.md).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { ValidationSeverity, type ValidatorSettings, validate } from "dockerfile-utils";
import { REPO_ROOT } from "../fixtures.js";
import { DOCKERFILE_KEYWORDS, execForm, type Instruction, parseDockerfile } from "./dockerfile-parser.js";

const dockerfileText = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
const dockerfile = parseDockerfile(dockerfileText);

/** Every check dockerfile-utils can be configured for, raised to an error (some default to warnings). */
const STRICT: Required<ValidatorSettings> = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};
/** dockerfile-utils' diagnostics as "line: message" (lines from 1), whatever their severity. */
const lint = (text: string): string[] =>
  validate(text, STRICT).map((d) => `${d.range.start.line + 1}: ${d.message}`);
const runtime = dockerfile.stages.at(-1);
const all = (keyword: string, stage = runtime): Instruction[] =>
  (stage?.instructions ?? []).filter((i) => i.keyword === keyword);
const one = (keyword: string): Instruction => {
  const found = all(keyword);
  assert.equal(found.length, 1, `the runtime stage has exactly one ${keyword}`);
  return found[0] as Instruction;
};
const envOf = (keyword: "ENV" | "ARG"): Map<string, string> => {
  const env = new Map<string, string>();
  for (const i of all(keyword))
    for (const [, name, value] of i.rest.matchAll(/(\w+)=(\S+)/g)) env.set(name as string, value as string);
  return env;
};

describe("Dockerfile", () => {
  it("has no error or warning from dockerfile-utils' validator, every check raised to an error", () => {
    assert.deepEqual(lint(dockerfileText), []);
  });

  it("would fail that lint with a broken instruction, flag, duration, port or JSON form", () => {
    const broken = [
      "FROM node:20-bookworm-slim AS build",
      "RUNN npm ci",
      "COPY --chmodd=755 a /b",
      'HEALTHCHECK --interval=15 CMD ["node", "h.mjs"]',
      "EXPOSE grpc",
      "WORKDIR app",
      "ENTRYPOINT ['/entrypoint.sh']",
    ].join("\n");
    assert.deepEqual(lint(broken), [
      "2: Unknown instruction: RUNN",
      "3: Unknown flag: chmodd",
      "4: time: missing unit in duration 15",
      "5: Invalid containerPort: grpc",
      "6: WORKDIR paths should be absolute",
      "7: Instruction written as a JSON array but is using single quotes instead of double quotes",
    ]);
  });

  it("uses only known instructions", () => {
    for (const i of [...dockerfile.preamble, ...dockerfile.stages.flatMap((s) => s.instructions)]) {
      assert.ok(DOCKERFILE_KEYWORDS.has(i.keyword), `line ${i.line}: unknown instruction ${i.keyword}`);
      assert.notEqual(i.keyword, "MAINTAINER", `line ${i.line}: MAINTAINER is deprecated, use LABEL`);
      assert.notEqual(i.keyword, "ADD", `line ${i.line}: use COPY (ADD fetches URLs and unpacks archives)`);
    }
  });

  it("is multi-stage: a named build stage whose dist/ the runtime stage copies", () => {
    assert.ok(dockerfile.stages.length >= 2, "at least a build and a runtime stage");
    const build = dockerfile.stages[0];
    assert.ok(build?.name, "the build stage is named");
    const fromBuild = all("COPY").filter((c) => c.flags.from === build?.name);
    assert.ok(
      fromBuild.some((c) => /\/dist\s/.test(`${c.rest} `)),
      "the runtime stage copies dist/ from the build stage",
    );
  });

  it("pins every base image to a tag that is not latest", () => {
    for (const stage of dockerfile.stages) {
      const [, tag] = stage.image.split(":");
      assert.ok(tag, `${stage.image || "(empty)"}: no tag`);
      assert.notEqual(tag, "latest", `${stage.image}: the latest tag moves under you`);
      assert.match(stage.image, /^node:20\b/, "Node 20, the version package.json's engines name");
    }
  });

  it("installs with npm ci: dev dependencies to build, production ones only at runtime", () => {
    const runs = (stage = runtime) => all("RUN", stage).map((r) => r.rest);
    for (const stage of dockerfile.stages) {
      for (const run of runs(stage))
        assert.doesNotMatch(run, /npm (install|i)\b/, "npm ci, never npm install");
    }
    const build = dockerfile.stages[0];
    assert.ok(runs(build).some((r) => /\bnpm ci\b/.test(r) && !r.includes("--omit=dev")));
    assert.ok(runs(build).some((r) => /\bnpm run build\b/.test(r)));
    // --ignore-scripts: `prepare` runs the build, which needs the dev dependencies the stage omits.
    assert.ok(
      runs().some((r) => /\bnpm ci\b/.test(r) && r.includes("--omit=dev") && r.includes("--ignore-scripts")),
      "the runtime stage runs npm ci --omit=dev --ignore-scripts",
    );
    assert.ok(
      all("COPY").some((c) => c.rest.split(/\s+/).includes(".npmrc")),
      ".npmrc (which skips onnxruntime's CUDA download) is in place before npm ci",
    );
  });

  it("runs as a numeric non-root user", () => {
    const user = one("USER").rest;
    assert.match(user, /^\d+(:\d+)?$/, "numeric, so Kubernetes' runAsNonRoot can verify it");
    assert.notEqual(user.split(":")[0], "0");
  });

  it("exposes gRPC 8500 and REST 8501 and sets tensorflow/serving's environment", () => {
    const ports = all("EXPOSE").flatMap((e) => e.rest.split(/\s+/));
    assert.deepEqual([...ports].sort(), ["8500", "8501"]);
    const env = envOf("ENV");
    assert.equal(env.get("MODEL_NAME"), "model");
    assert.equal(env.get("MODEL_BASE_PATH"), "/models");
    assert.equal(env.get("GRPC_PORT"), "8500");
    assert.equal(env.get("PORT"), "8501");
  });

  it("checks its health with the copied Node script and starts through the copied entrypoint", () => {
    const health = one("HEALTHCHECK");
    for (const flag of ["interval", "timeout", "start-period", "retries"])
      assert.ok(health.flags[flag], flag);
    const command = execForm(health.rest.replace(/^CMD\s+/, ""));
    assert.ok(command, "HEALTHCHECK CMD in exec form");
    assert.equal(command[0], "node", "no curl in the image: Node's fetch");
    assert.equal(copiedTo(command[1] ?? ""), "deploy/docker/healthcheck.mjs");
    const entrypoint = execForm(one("ENTRYPOINT").rest);
    assert.ok(entrypoint?.length === 1, "ENTRYPOINT in exec form, so the server gets the signals");
    assert.equal(copiedTo(entrypoint[0] as string), "deploy/docker/entrypoint.sh");
    const entryCopy = all("COPY").find((c) => c.rest.includes("deploy/docker/entrypoint.sh"));
    assert.equal(entryCopy?.flags.chmod, "755");
    assert.equal(one("WORKDIR").rest, "/app");
  });

  it("has a build context holding every copied file (.dockerignore)", () => {
    const ignore = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const heavy of ["node_modules", "dist", ".git", "models"]) assert.ok(ignore.includes(heavy), heavy);
    const sources = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === "COPY" && i.flags.from === undefined)
      .flatMap((c) => c.rest.split(/\s+/).slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(existsSync(join(REPO_ROOT, source)), `COPY ${source}: no such file`);
      const files = statSync(join(REPO_ROOT, source)).isDirectory()
        ? walk(join(REPO_ROOT, source)).map((f) => relative(REPO_ROOT, f))
        : [source];
      const kept = files.filter((f) => !dockerIgnored(f, ignore));
      assert.ok(kept.length > 0, `COPY ${source}: excluded by .dockerignore`);
      if (source !== "src") continue;
      assert.ok(kept.includes("src/cli/main.ts"));
      // What tsc compiles in the image imports nothing the context leaves out (tests, test helpers).
      const inContext = new Set(kept);
      for (const file of kept.filter((f) => f.endsWith(".ts"))) {
        for (const spec of runtimeImports(readFileSync(join(REPO_ROOT, file), "utf8"))) {
          if (!spec.startsWith(".")) continue;
          const target = relative(REPO_ROOT, join(REPO_ROOT, dirname(file), spec.replace(/\.js$/, ".ts")));
          assert.ok(inContext.has(target), `${file} imports ${spec}, which .dockerignore leaves out`);
        }
      }
    }
  });

  it("needs only production dependencies at run time (the image runs npm ci --omit=dev)", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const files = walk(join(REPO_ROOT, "src")).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".test-helpers.ts"),
    );
    const missing: string[] = [];
    for (const file of files) {
      for (const spec of runtimeImports(readFileSync(file, "utf8"))) {
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : (spec.split("/")[0] ?? "");
        if (!(name in pkg.dependencies)) missing.push(`${relative(REPO_ROOT, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(missing, [], "imported at run time but not in package.json dependencies");
  });

  it("has an entrypoint script that sh parses", () => {
    const check = spawnSync("sh", ["-n", join(REPO_ROOT, "deploy/docker/entrypoint.sh")], {
      encoding: "utf8",
    });
    assert.equal(check.status, 0, check.stderr);
    assert.ok((statSync(join(REPO_ROOT, "deploy/docker/entrypoint.sh")).mode & 0o111) !== 0, "executable");
  });
});

/** The repository file a runtime-stage COPY put at `target`. */
function copiedTo(target: string): string | undefined {
  for (const copy of all("COPY")) {
    const parts = copy.rest.split(/\s+/);
    const destination = parts.at(-1) ?? "";
    for (const source of parts.slice(0, -1)) {
      const name = source.split("/").at(-1) ?? "";
      if (destination === target || (destination.endsWith("/") && `${destination}${name}` === target))
        return source;
    }
  }
  return undefined;
}

/** .dockerignore matching: `*` within a path segment, `**` across segments; a match excludes a whole tree. */
function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, "");
    const regex = new RegExp(
      `^${pattern
        .split("/")
        .map((part) =>
          part === "**" ? "(?:.*)" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"),
        )
        .join("/")
        .replace(/\(\?:\.\*\)\//g, "(?:.*/)?")}(?:/.*)?$`,
    );
    if (regex.test(path)) ignored = !negate;
  }
  return ignored;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Module specifiers a compiled file still imports (`import type` is erased; doc comments are skipped). */
function runtimeImports(source: string): string[] {
  const specs: string[] = [];
  for (const match of source.matchAll(
    /^(?:import|export)(?!\s+type\s)[^;]*?\sfrom\s+"([^"]+)"|^import\s+"([^"]+)"|\bimport\("([^"]+)"\)/gm,
  )) {
    specs.push((match[1] ?? match[2] ?? match[3]) as string);
  }
  return specs;
}
