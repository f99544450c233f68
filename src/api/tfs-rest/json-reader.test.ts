import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { decodeBase64, JsonReader, JsonSyntaxError, Kind } from "./json-reader.js";

/** Reads one number token (the whole text). */
function num(text: string): JsonReader {
  const r = new JsonReader(text);
  r.skipWs();
  r.readNumber();
  r.finish();
  return r;
}

/** Reads any JSON value into plain JS (numbers as numbers, bigints past 2^53) — a test-only DOM. */
function read(r: JsonReader): unknown {
  switch (r.peekKind()) {
    case Kind.Object: {
      const out: Record<string, unknown> = {};
      r.beginObject();
      for (let k = r.nextKey(); k !== undefined; k = r.nextKey()) out[k] = read(r);
      return out;
    }
    case Kind.Array: {
      const out: unknown[] = [];
      r.beginArray();
      while (r.nextElement()) out.push(read(r));
      return out;
    }
    case Kind.String:
      return r.readString();
    case Kind.True:
    case Kind.False:
    case Kind.Null:
      return r.readLiteral();
    default:
      r.readNumber();
      return r.numBig ?? r.exactValue();
  }
}

function parse(text: string | Uint8Array, maxDepth?: number): unknown {
  const r = new JsonReader(text, maxDepth === undefined ? {} : { maxDepth });
  if (r.skipWs() === -1) r.fail("The document is empty.");
  const v = read(r);
  r.finish();
  return v;
}

function syntaxError(text: string | Uint8Array, offset: number, reason: string, maxDepth?: number): void {
  assert.throws(
    () => parse(text, maxDepth),
    (e: unknown) => {
      assert.ok(e instanceof JsonSyntaxError, String(e));
      assert.equal(e.code, Code.INVALID_ARGUMENT);
      assert.equal(
        e.message,
        reason.startsWith("The document is empty")
          ? "JSON Parse error: The document is empty"
          : `JSON Parse error: ${reason} at offset: ${offset}`,
      );
      return true;
    },
  );
}

describe("JsonReader values", () => {
  it("reads every JSON value kind, with any whitespace", () => {
    assert.deepEqual(parse(' { "a" : [ 1 , -2.5e1 , true , false , null , "x" , { } , [ ] ] }\n\t\r '), {
      a: [1, -25, true, false, null, "x", {}, []],
    });
    assert.deepEqual(parse("[]"), []);
    assert.equal(parse('"top"'), "top");
    assert.equal(parse("7"), 7);
  });

  it("reads Buffers and strings alike; offsets are byte offsets", () => {
    assert.deepEqual(parse(Buffer.from('{"é": "ü"}')), { é: "ü" });
    // "é" is 2 bytes: the bad token after it is at byte 7, not char 6.
    syntaxError('["é", x]', 7, "Invalid value.");
    syntaxError(Buffer.from('["é", x]'), 7, "Invalid value.");
  });

  it("accepts NaN, Infinity, -Infinity and rapidjson's Inf / -Inf / -NaN", () => {
    const values = parse("[NaN, Infinity, -Infinity, Inf, -Inf, -NaN]") as number[];
    assert.ok(Number.isNaN(values[0]));
    assert.deepEqual(values.slice(1, 5), [Infinity, -Infinity, Infinity, -Infinity]);
    assert.ok(Number.isNaN(values[5]));
    syntaxError("[Infinit]", 8, "Invalid value.");
    syntaxError("[Nan]", 3, "Invalid value.");
    syntaxError("[nan]", 2, "Invalid value.");
  });

  it("decodes string escapes to UTF-8, including surrogate pairs, and keeps raw bytes", () => {
    assert.equal(parse('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"'), 'a"b\\c/d\b\f\n\r\té😀');
    const r = new JsonReader(Buffer.from([0x22, 0xff, 0xfe, 0x5c, 0x75, 0x30, 0x30, 0x30, 0x30, 0x22]));
    r.skipWs();
    // Invalid UTF-8 is kept byte for byte (rapidjson does not validate); \u0000 is a zero byte.
    assert.deepEqual(r.readStringBytes(), new Uint8Array([0xff, 0xfe, 0]));
  });
});

describe("JsonReader numbers", () => {
  it("classifies integers and decimals as rapidjson does", () => {
    let r = num("12");
    assert.equal(r.numIsInt, true);
    assert.equal(r.numValue, 12);
    r = num("12.0");
    assert.equal(r.numIsInt, false);
    assert.equal(r.numValue, 12);
    r = num("1e2");
    assert.equal(r.numIsInt, false);
    assert.equal(r.numValue, 100);
    r = num("-0");
    assert.equal(r.numIsInt, true);
    assert.ok(Object.is(r.numValue, 0), "-0 is the integer 0");
    r = num("-0.0");
    assert.ok(Object.is(r.numValue, -0));
    r = num("NaN");
    assert.equal(r.numIsInt, false);
  });

  it("keeps int64 and uint64 extremes exact", () => {
    let r = num("-9223372036854775808");
    assert.equal(r.numIsInt, true);
    assert.equal(r.numBig, -(2n ** 63n));
    r = num("9223372036854775807");
    assert.equal(r.numBig, 2n ** 63n - 1n);
    r = num("18446744073709551615");
    assert.equal(r.numIsInt, true);
    assert.equal(r.numBig, 2n ** 64n - 1n);
    r = num("9007199254740993");
    assert.equal(r.numBig, 2n ** 53n + 1n);
    assert.equal(r.numValue, 2 ** 53);
  });

  it("turns integers past the 64-bit ranges into doubles", () => {
    let r = num("18446744073709551616");
    assert.equal(r.numIsInt, false);
    assert.equal(r.numValue, 2 ** 64);
    r = num("-9223372036854775809");
    assert.equal(r.numIsInt, false);
    assert.equal(r.numValue, -(2 ** 63));
  });

  it("rounds decimals correctly, long ones through exactValue()", () => {
    for (const text of [
      "0.1",
      "2.2250738585072014e-308",
      "1.7976931348623157e308",
      "5e-324",
      "123456789012345678901234567890",
      "0.30000000000000004",
      "3.141592653589793238462643383279",
      "1.00000017881393432617187499",
      "9007199254740993.0",
      "1e-400",
    ]) {
      const r = num(text);
      assert.equal(r.exactValue(), Number(text), text);
    }
    const r = num("0.30000000000000004");
    assert.equal(r.numApprox, true);
    assert.equal(r.exactValue(), 0.30000000000000004);
    assert.equal(r.numApprox, false);
    assert.equal(Math.fround(num("0.100000001490116119384765625").numValue), Math.fround(0.1));
  });

  it("approximates long decimals within 2^-50", () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 2000; i++) {
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const text = x.toPrecision(17 + Math.floor(rnd() * 4));
      const r = num(text);
      const exact = Number(text);
      assert.ok(Math.abs(r.numValue - exact) <= Math.abs(exact) * 2 ** -50, text);
      assert.equal(r.exactValue(), exact, text);
    }
  });

  it("reports rapidjson's number errors", () => {
    syntaxError("[1.]", 3, "Miss fraction part in number.");
    syntaxError("[1e]", 3, "Miss exponent in number.");
    syntaxError("[1e+]", 4, "Miss exponent in number.");
    syntaxError("[-]", 2, "Invalid value.");
    syntaxError("[+1]", 1, "Invalid value.");
    syntaxError("[.5]", 1, "Invalid value.");
    syntaxError("[01]", 2, "Missing a comma or ']' after an array element.");
    syntaxError("[1, 1e400]", 4, "Number too big to be stored in double.");
    syntaxError("[-1e309]", 1, "Number too big to be stored in double.");
  });
});

describe("JsonReader syntax errors", () => {
  it("reports rapidjson's messages at byte offsets", () => {
    syntaxError("", 0, "The document is empty.");
    syntaxError("  \n ", 4, "The document is empty.");
    syntaxError("{} x", 3, "The document root must not be followed by other values.");
    syntaxError('{"a": 1}X', 8, "The document root must not be followed by other values.");
    syntaxError("[1,]", 3, "Invalid value.");
    syntaxError("[1 2]", 3, "Missing a comma or ']' after an array element.");
    syntaxError("[1", 2, "Missing a comma or ']' after an array element.");
    syntaxError("{1: 2}", 1, "Missing a name for object member.");
    syntaxError('{"a": 1,}', 8, "Missing a name for object member.");
    syntaxError('{"a" 1}', 5, "Missing a colon after a name of object member.");
    syntaxError('{"a": 1 "b": 2}', 8, "Missing a comma or '}' after an object member.");
    syntaxError('["abc', 5, "Missing a closing quotation mark in string.");
    syntaxError('["a\nb"]', 3, "Invalid encoding in string.");
    syntaxError('["a\\x"]', 3, "Invalid escape character in string.");
    syntaxError('["\\u12g4"]', 2, "Incorrect hex digit after \\u escape in string.");
    syntaxError('["\\ud83d"]', 2, "The surrogate pair in string is invalid.");
    syntaxError('["\\ude00"]', 2, "The surrogate pair in string is invalid.");
    syntaxError("[tru]", 4, "Invalid value.");
    syntaxError("[nul]", 4, "Invalid value.");
  });

  it("limits nesting depth without recursion trouble", () => {
    assert.deepEqual(parse("[[[1]]]", 3), [[[1]]]);
    syntaxError("[[[[1]]]]", 3, "Nesting is deeper than the limit of 3 levels.", 3);
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    syntaxError(deep, 512, "Nesting is deeper than the limit of 512 levels.");
    const r = new JsonReader(deep, { maxDepth: 200_000 });
    r.skipValue(); // iterative: no stack overflow
    r.finish();
  });

  it("skipValue validates what it skips", () => {
    const r = new JsonReader('{"a": [1, {"b": [true, null, "\\u0041"]}], "c": 2}');
    r.skipValue();
    r.finish();
    assert.throws(
      () => new JsonReader('{"a": [1, {"b": [tru]}]}').skipValue(),
      /Invalid value\. at offset: 20$/,
    );
  });
});

describe("isBase64Object", () => {
  it('recognises exactly {"b64": string}', () => {
    const check = (text: string) => {
      const r = new JsonReader(text);
      r.skipWs();
      return r.isBase64Object();
    };
    assert.equal(check('{"b64": "aGk="}'), true);
    assert.equal(check('{ "b64" : "a\\"b" }'), true);
    assert.equal(check('{"b64": "aGk=", "x": 1}'), false);
    assert.equal(check('{"b64": 1}'), false);
    assert.equal(check('{"b65": "aGk="}'), false);
    assert.equal(check("{}"), false);
  });
});

describe("decodeBase64 (absl::Base64Unescape)", () => {
  const text = (s: string) => {
    const b = decodeBase64(s);
    return b && Buffer.from(b).toString("latin1");
  };

  it("decodes with or without padding, skipping whitespace", () => {
    assert.equal(text("aGVsbG8="), "hello");
    assert.equal(text("aGVsbG8"), "hello");
    assert.equal(text("c2VydmluZw=="), "serving");
    assert.equal(text("c2VydmluZw"), "serving");
    assert.equal(text(" aGVs\nbG8=\t"), "hello");
    assert.equal(text(""), "");
    assert.equal(text("aGVsbG8."), "hello", "absl accepts '.' as padding");
    assert.equal(text("+/+/"), "\xfb\xff\xbf");
  });

  it("rejects bad characters, wrong padding and a dangling character", () => {
    for (const bad of [
      "aGVsbG8==",
      "c2VydmluZw=",
      "aGVsb",
      "aGV$bG8=",
      "-_-_",
      "aGVsbG8=x",
      "====",
      "QQ==QQ==",
    ]) {
      assert.equal(decodeBase64(bad), undefined, bad);
    }
  });
});
