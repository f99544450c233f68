import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { rawHeader } from "./http-headers.js";

const request = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;

describe("rawHeader", () => {
  it("finds a header's first value whatever the case of its name", () => {
    const req = request(["Host", "h", "X-Request-ID", "abc", "x-request-id", "second", "Content-Type", "x"]);
    assert.equal(rawHeader(req, "x-request-id"), "abc");
    assert.equal(rawHeader(req, "content-type"), "x");
    assert.equal(rawHeader(req, "content-encoding"), undefined);
    // Same length, different letters: not a match.
    assert.equal(rawHeader(request(["X-Request-IE", "no"]), "x-request-id"), undefined);
  });
});
