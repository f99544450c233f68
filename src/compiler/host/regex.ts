// RegexReplace / StaticRegexReplace / RegexFullMatch / StaticRegexFullMatch (TF's regex_replace_op.cc,
// regex_full_match_op.cc) on JS RegExp.
//
// TF uses RE2. RE2 syntax is close to JS's with the `u` flag, and both are leftmost-first; what differs
// and is translated here: `(?P<name>…)` → `(?<name>…)`, leading `(?i)`/`(?s)`/`(?m)` → flags, `\A` and
// `\z` (text start/end), `\pL` → `\p{L}`, `\x{HHHH}` → `\u{HHHH}`, `\Q…\E` literals and POSIX classes
// `[[:alpha:]]` inside brackets. Not translated: `(?U)` (ungreedy), mid-pattern flag groups, `\C`.
// JS accepts backreferences and lookaround, which RE2 rejects: such patterns run here but fail in TF.
// Rewrites use RE2's `\0`..`\9` and `\\`; RE2's GlobalReplace skips an empty match right after the
// previous match (JS's String.replace would not), which the replace loop below reproduces.
// Strings that are valid UTF-8 are matched as Unicode text; any other bytes as Latin-1 (one char per byte).
import { invalidArgument } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import type { HostKernel } from "./kernel.js";
import {
  attrBool,
  attrBytes,
  boolTensor,
  latin1,
  scalarString,
  stringInput,
  stringTensor,
  utf8Decode,
  utf8DecodeStrict,
  utf8Encode,
} from "./util.js";

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

const escapeLiteral = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

/** An RE2 pattern as a JS RegExp source and flags. */
export function translateRe2(pattern: string): { source: string; flags: string } {
  let flags = "u";
  let p = pattern;
  const lead = /^\(\?([ims]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) if (!flags.includes(f)) flags += f;
    p = p.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      const next = p[i + 1];
      if (next === "Q") {
        const end = p.indexOf("\\E", i + 2);
        const literal = p.slice(i + 2, end < 0 ? p.length : end);
        out += escapeLiteral(literal);
        i = end < 0 ? p.length : end + 1;
        continue;
      }
      if (!inClass && next === "A") {
        out += "(?<![\\s\\S])";
        i++;
        continue;
      }
      if (!inClass && next === "z") {
        out += "(?![\\s\\S])";
        i++;
        continue;
      }
      if ((next === "p" || next === "P") && p[i + 2] !== "{" && p[i + 2] !== undefined) {
        out += `\\${next}{${p[i + 2]}}`;
        i += 2;
        continue;
      }
      if (next === "x" && p[i + 2] === "{") {
        out += "\\u";
        i++;
        continue;
      }
      out += c + (next ?? "");
      i++;
      continue;
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (posix && POSIX_CLASSES[posix[2]!] !== undefined && posix[1] === "") {
        out += POSIX_CLASSES[posix[2]!];
        i += posix[0].length - 1;
        continue;
      }
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (p[i + 1] === "^") {
        out += "^";
        i++;
      }
      if (p[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && p.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
      continue;
    }
    out += c;
  }
  return { source: out, flags };
}

const cache = new Map<string, RegExp>();

function compile(pattern: Uint8Array, anchored: boolean): RegExp {
  const text = utf8Decode(pattern);
  const key = `${anchored ? "A" : "U"}${text}`;
  let re = cache.get(key);
  if (re === undefined) {
    const { source, flags } = translateRe2(text);
    try {
      re = anchored
        ? new RegExp(`(?<![\\s\\S])(?:${source})(?![\\s\\S])`, flags)
        : new RegExp(source, `${flags}g`);
    } catch (e) {
      throw invalidArgument(`Invalid pattern: ${text}, error: ${(e as Error).message}`);
    }
    if (cache.size > 256) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** Bytes → text for matching, and the encoder back. */
function asText(s: Uint8Array): { text: string; encode: (t: string) => Uint8Array } {
  const text = utf8DecodeStrict(s);
  if (text !== undefined) return { text, encode: utf8Encode };
  return { text: latin1(s), encode: (t) => new Uint8Array(Buffer.from(t, "latin1")) };
}

/** RE2's rewrite string: `\N` inserts group N, `\\` a backslash. Undefined if RE2 would reject it. */
function parseRewrite(rewrite: string, groups: number): ((m: RegExpExecArray) => string) | undefined {
  const parts: (string | number)[] = [];
  let literal = "";
  for (let i = 0; i < rewrite.length; i++) {
    const c = rewrite[i]!;
    if (c !== "\\") {
      literal += c;
      continue;
    }
    const next = rewrite[++i];
    if (next === "\\") literal += "\\";
    else if (next !== undefined && next >= "0" && next <= "9") {
      const n = Number(next);
      if (n > groups) return undefined;
      parts.push(literal, n);
      literal = "";
    } else return undefined;
  }
  parts.push(literal);
  return (m) => parts.map((p) => (typeof p === "number" ? (m[p] ?? "") : p)).join("");
}

function countGroups(re: RegExp): number {
  return new RegExp(`${re.source}|`, re.flags.replace("g", "")).exec("")!.length - 1;
}

/** RE2::Replace (first match) or RE2::GlobalReplace of `re` in `text`; undefined when nothing matched. */
function replaceText(
  text: string,
  re: RegExp,
  rewrite: (m: RegExpExecArray) => string,
  global: boolean,
): string {
  let out = "";
  let p = 0;
  let lastEnd = -1;
  while (p <= text.length) {
    re.lastIndex = p;
    const m = re.exec(text);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    if (start === end && start === lastEnd) {
      // An empty match where the previous match ended: copy one character and move on.
      if (p >= text.length) break;
      const step = (text.codePointAt(p) ?? 0) > 0xffff ? 2 : 1;
      out += text.slice(p, p + step);
      p += step;
      continue;
    }
    out += text.slice(p, start) + rewrite(m);
    p = end;
    lastEnd = end;
    if (!global) break;
  }
  return out + text.slice(p);
}

const patternOf = (node: GraphNode, inputs: Parameters<HostKernel>[1], i: number): Uint8Array =>
  scalarString(stringInput(node, inputs, i, "pattern"), "Pattern");

function regexReplace(
  node: GraphNode,
  input: ReturnType<typeof stringInput>,
  pattern: Uint8Array,
  rewrite: Uint8Array,
) {
  const global = attrBool(node, "replace_global", true);
  const re = compile(pattern, false);
  const apply = parseRewrite(utf8Decode(rewrite), countGroups(re));
  const out = input.strings.map((s) => {
    if (apply === undefined) return s; // RE2 returns false and leaves the string as it was.
    const { text, encode } = asText(s);
    return encode(replaceText(text, re, apply, global));
  });
  return [stringTensor(input.shape, out)];
}

function fullMatch(input: ReturnType<typeof stringInput>, pattern: Uint8Array) {
  const re = compile(pattern, true);
  return [
    boolTensor(
      input.shape,
      input.strings.map((s) => re.test(asText(s).text)),
    ),
  ];
}

export const REGEX_KERNELS: Readonly<Record<string, HostKernel>> = {
  RegexReplace: (node, inputs) =>
    regexReplace(
      node,
      stringInput(node, inputs, 0, "input"),
      patternOf(node, inputs, 1),
      scalarString(stringInput(node, inputs, 2, "rewrite"), "Rewrite"),
    ),
  StaticRegexReplace: (node, inputs) =>
    regexReplace(
      node,
      stringInput(node, inputs, 0, "input"),
      attrBytes(node, "pattern"),
      attrBytes(node, "rewrite"),
    ),
  RegexFullMatch: (node, inputs) =>
    fullMatch(stringInput(node, inputs, 0, "input"), patternOf(node, inputs, 1)),
  StaticRegexFullMatch: (node, inputs) =>
    fullMatch(stringInput(node, inputs, 0, "input"), attrBytes(node, "pattern")),
};
