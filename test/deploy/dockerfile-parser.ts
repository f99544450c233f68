// A small Dockerfile reader for the image's lint test: instructions with their stage, line
// continuations joined, comments and parser directives dropped, ARG defaults substituted into FROM.
// No Docker daemon or hadolint is needed, so the test runs on every machine.

/** One instruction, e.g. `{ keyword: "COPY", args: "--from=build /src/dist ./dist", flags: {from: "build"} }`. */
export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** Leading `--name=value` options (`--from`, `--chmod`, `--interval`...). */
  readonly flags: Readonly<Record<string, string>>;
  /** The arguments after the flags. */
  readonly rest: string;
  readonly line: number;
}

export interface Stage {
  /** The base image with global ARG defaults substituted, e.g. `node:20-bookworm-slim`. */
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** Instructions before the first FROM (global ARGs). */
  readonly preamble: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/** Every instruction keyword the Dockerfile reference defines. */
export const DOCKERFILE_KEYWORDS: ReadonlySet<string> = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/**
 * Splits a Dockerfile into stages of instructions.
 *
 * @example
 * const { stages } = parseDockerfile(readFileSync("Dockerfile", "utf8"));
 * stages.at(-1)?.instructions.find((i) => i.keyword === "USER")?.rest; // "1000:1000"
 */
export function parseDockerfile(text: string): Dockerfile {
  const instructions = joinLines(text);
  const preamble: Instruction[] = [];
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  const globalArgs = new Map<string, string>();
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.rest.split(/\s+/);
      stages.push({
        image: image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? ""),
        name: as?.toUpperCase() === "AS" ? name : undefined,
        instructions: [],
      });
    } else if (stages.length === 0) {
      preamble.push(instruction);
      const arg = /^(\w+)=(\S*)$/.exec(instruction.rest);
      if (instruction.keyword === "ARG" && arg) globalArgs.set(arg[1] as string, arg[2] as string);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { preamble, stages };
}

function joinLines(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    // Comments (and `# syntax=` directives) are whole lines, also between continuation lines.
    if (/^\s*#/.test(line) || (pending === "" && line.trim() === "")) return;
    if (pending === "") startLine = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    out.push(instruction(`${pending}${line.trim()}`, startLine));
    pending = "";
  });
  if (pending !== "") out.push(instruction(pending.trim(), startLine));
  return out;
}

function instruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(text);
  const keyword = (match?.[1] ?? "").toUpperCase();
  const args = match?.[2] ?? "";
  const flags: Record<string, string> = {};
  let rest = args;
  for (let flag = /^--([\w-]+)=(\S+)\s*/.exec(rest); flag; flag = /^--([\w-]+)=(\S+)\s*/.exec(rest)) {
    flags[flag[1] as string] = flag[2] as string;
    rest = rest.slice(flag[0].length);
  }
  return { keyword, args, flags, rest, line };
}

/** The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or undefined for the shell form. */
export function execForm(text: string): string[] | undefined {
  if (!text.trimStart().startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) && parsed.every((x) => typeof x === "string") ? parsed : undefined;
}
