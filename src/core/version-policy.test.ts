import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { FileSystemStoragePathSourceConfig_ServableVersionPolicySchema as PolicySchema } from "../proto/gen/tensorflow_serving/config/file_system_storage_path_source_pb.js";
import {
  describeVersionPolicy,
  missingSpecificVersions,
  selectVersions,
  versionPolicyFromProto,
} from "./version-policy.js";

describe("version policy", () => {
  it("unset is latest 1, and latest 0 is treated as 1", () => {
    assert.deepEqual(versionPolicyFromProto(undefined), { kind: "latest", numVersions: 1 });
    assert.deepEqual(versionPolicyFromProto(create(PolicySchema, {})), { kind: "latest", numVersions: 1 });
    const zero = create(PolicySchema, { policyChoice: { case: "latest", value: { numVersions: 0 } } });
    assert.deepEqual(versionPolicyFromProto(zero), { kind: "latest", numVersions: 1 });
    const all = create(PolicySchema, { policyChoice: { case: "all", value: {} } });
    assert.deepEqual(versionPolicyFromProto(all), { kind: "all" });
    const specific = create(PolicySchema, {
      policyChoice: { case: "specific", value: { versions: [3n, 1n, 3n] } },
    });
    assert.deepEqual(versionPolicyFromProto(specific), { kind: "specific", versions: [3n, 1n] });
  });

  it("selects highest first: latest N, all, the specific ones present", () => {
    const present = [1n, 10n, 2n, 7n];
    assert.deepEqual(selectVersions({ kind: "latest", numVersions: 1 }, present), [10n]);
    assert.deepEqual(selectVersions({ kind: "latest", numVersions: 3 }, present), [10n, 7n, 2n]);
    assert.deepEqual(selectVersions({ kind: "latest", numVersions: 9 }, present), [10n, 7n, 2n, 1n]);
    assert.deepEqual(selectVersions({ kind: "all" }, present), [10n, 7n, 2n, 1n]);
    assert.deepEqual(selectVersions({ kind: "specific", versions: [2n, 3n, 10n] }, present), [10n, 2n]);
    assert.deepEqual(selectVersions({ kind: "latest", numVersions: 1 }, []), []);
    assert.deepEqual(missingSpecificVersions({ kind: "specific", versions: [2n, 3n, 10n] }, present), [3n]);
    assert.deepEqual(missingSpecificVersions({ kind: "all" }, present), []);
  });

  it("describes itself for logs", () => {
    assert.equal(describeVersionPolicy({ kind: "latest", numVersions: 2 }), "latest 2");
    assert.equal(describeVersionPolicy({ kind: "all" }), "all");
    assert.equal(describeVersionPolicy({ kind: "specific", versions: [3n, 1n] }), "specific [1, 3]");
  });
});
