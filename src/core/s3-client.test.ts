import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ServingError } from "../errors.js";
import { isS3Uri, parseS3Uri, resolveS3Endpoint, s3Key } from "./s3-client.js";

describe("s3:// URIs and endpoints", () => {
  it("splits bucket and prefix, trailing slashes dropped", () => {
    assert.deepEqual(parseS3Uri("s3://models/ranking"), { bucket: "models", prefix: "ranking" });
    assert.deepEqual(parseS3Uri("s3://models/a/b//"), { bucket: "models", prefix: "a/b" });
    assert.deepEqual(parseS3Uri("s3://models"), { bucket: "models", prefix: "" });
    assert.equal(s3Key(parseS3Uri("s3://models"), "1/saved_model.pb"), "1/saved_model.pb");
    assert.equal(s3Key(parseS3Uri("s3://m/x/"), "1/saved_model.pb"), "x/1/saved_model.pb");
    assert.ok(isS3Uri("S3://b/p") && !isS3Uri("/models/s3://x"));
    assert.throws(
      () => parseS3Uri("s3:///x"),
      (error: unknown) => error instanceof ServingError && error.code === Code.INVALID_ARGUMENT,
    );
  });

  it("endpoint: the flag, else TF's S3_ENDPOINT (+ S3_USE_HTTPS), else the SDK's variables", () => {
    const env = {
      S3_ENDPOINT: "minio:9000",
      S3_USE_HTTPS: "0",
      AWS_ENDPOINT_URL: "http://other:1",
    };
    assert.equal(resolveS3Endpoint({ endpoint: "http://flag:2" }, env), "http://flag:2");
    assert.equal(resolveS3Endpoint({}, env), "http://minio:9000");
    assert.equal(resolveS3Endpoint({}, { S3_ENDPOINT: "s3.example.com" }), "https://s3.example.com");
    assert.equal(resolveS3Endpoint({}, { AWS_ENDPOINT_URL: "http://other:1" }), "http://other:1");
    assert.equal(
      resolveS3Endpoint({}, { AWS_ENDPOINT_URL_S3: "http://s3only:3", AWS_ENDPOINT_URL: "http://other:1" }),
      "http://s3only:3",
    );
    assert.equal(resolveS3Endpoint({}, {}), undefined);
  });
});
