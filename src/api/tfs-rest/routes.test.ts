import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { httpStatusFor } from "./http-status.js";
import { matchRoute } from "./routes.js";

describe("REST routes", () => {
  it("match TF Serving's inference, status and metadata paths", () => {
    assert.deepEqual(matchRoute("POST", "/v1/models/m:predict"), {
      kind: "inference",
      verb: "predict",
      model: "m",
      selector: { kind: "latest" },
    });
    assert.deepEqual(matchRoute("POST", "/v1/models/m/versions/123:classify"), {
      kind: "inference",
      verb: "classify",
      model: "m",
      selector: { kind: "version", version: 123n },
    });
    assert.deepEqual(matchRoute("POST", "/V1/MODELS/m/labels/sta%20ble:regress"), {
      kind: "inference",
      verb: "regress",
      model: "m",
      selector: { kind: "label", label: "sta ble" },
    });
    assert.deepEqual(matchRoute("GET", "/v1/models/my%2Fmodel"), {
      kind: "status",
      model: "my/model",
      selector: { kind: "latest" },
    });
    assert.deepEqual(matchRoute("GET", "/v1/models/m/versions/7/metadata"), {
      kind: "metadata",
      model: "m",
      selector: { kind: "version", version: 7n },
    });
    // The subresource compare is case-sensitive in TF Serving: /METADATA is a status request.
    assert.equal(matchRoute("GET", "/v1/models/m/METADATA").kind, "status");
  });

  it("answer malformed requests as TF Serving does", () => {
    const message = (method: string, path: string) => {
      const route = matchRoute(method, path);
      return route.kind === "malformed" ? route.message : route.kind;
    };
    assert.equal(message("GET", "/v1/models"), "Missing model name in request.");
    assert.equal(message("POST", "/v1/models"), "Malformed request: POST /v1/models");
    assert.equal(message("GET", "/v1/models/m:predict"), "Malformed request: GET /v1/models/m:predict");
    assert.equal(
      message("POST", "/v1/models/m/version/50:predict"),
      "Malformed request: POST /v1/models/m/version/50:predict",
    );
    assert.equal(
      message("POST", "/v1/models/m/versions/HELLO:predict"),
      "Malformed request: POST /v1/models/m/versions/HELLO:predict",
    );
    assert.equal(message("POST", "/v1/models/m:PREDICT"), "Malformed request: POST /v1/models/m:PREDICT");
    assert.equal(
      message("POST", "/v1/models/m:predict?x=1"),
      "Malformed request: POST /v1/models/m:predict?x=1",
    );
    assert.equal(message("POST", "/v1/models/m/metadata"), "Malformed request: POST /v1/models/m/metadata");
    assert.equal(message("PUT", "/v1/models/m"), "Malformed request: PUT /v1/models/m");
    assert.equal(
      matchRoute("POST", "/v1/models/m/versions/18446744073709551615:predict").kind,
      "bad-encoding",
    );
    // Invalid escapes stay as written (curl_easy_unescape), so this is a lookup of model "%ZZ".
    assert.deepEqual(matchRoute("GET", "/v1/models/%ZZ"), {
      kind: "status",
      model: "%ZZ",
      selector: { kind: "latest" },
    });
    assert.equal(message("GET", "/v1/models/"), "Malformed request: GET /v1/models/");
  });

  it("map status codes to HTTP like TF Serving", () => {
    assert.equal(httpStatusFor(Code.INVALID_ARGUMENT), 400);
    assert.equal(httpStatusFor(Code.NOT_FOUND), 404);
    assert.equal(httpStatusFor(Code.FAILED_PRECONDITION), 400);
    assert.equal(httpStatusFor(Code.UNAVAILABLE), 503);
    assert.equal(httpStatusFor(Code.DEADLINE_EXCEEDED), 504);
    assert.equal(httpStatusFor(Code.UNIMPLEMENTED), 501);
    assert.equal(httpStatusFor(Code.RESOURCE_EXHAUSTED), 429);
    assert.equal(httpStatusFor(Code.CANCELLED), 499);
  });
});
