// Test support for the bundle suites: the one-line ServingError a bad bundle must be reported as.
import assert from "node:assert/strict";
import { Code, ServingError } from "../../errors.js";

/**
 * An `assert.rejects`/`assert.throws` validator: a one-line ServingError with `code` matching `pattern`.
 *
 * @example
 * await assert.rejects(readBundle(prefix), expectError(/checksum/, Code.DATA_LOSS));
 */
export function expectError(pattern: RegExp, code: Code): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ServingError, `expected a ServingError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.equal(e.codeName, Code[code], e.message);
    assert.doesNotMatch(e.message, /\n/, "one line");
    return true;
  };
}
