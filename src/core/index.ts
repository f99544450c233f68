/**
 * The model server core: config, file-system source (with safe pickup), version policies, the
 * manager (lifecycle, availability-preserving swaps, refcounted handles, labels) and ServerCore,
 * which the REST and gRPC layers call.
 *
 * @example
 * import { ServerCore, readModelConfigFile } from "./core/index.js";
 * const core = await ServerCore.create({ config: await readModelConfigFile("/models/models.config") });
 */
export {
  type AspiredVersion,
  FileSystemSource,
  type FileSystemSourceOptions,
  type PendingVersion,
  type SourceEvent,
  type SourceModel,
  type SourceModelStatus,
} from "./fs-source.js";
export type { LoadFn, WarmupFn } from "./load-retry.js";
export {
  type LoadRetryEvent,
  type ManagerEvents,
  type ManagerOptions,
  type ServableHandle,
  ServableManager,
  type StateChangeEvent,
  type VersionRequest,
  type VersionState,
  type VersionStatus,
} from "./manager.js";
export {
  CUSTOM_CONFIG_UNSUPPORTED,
  checkNoPlatformChanges,
  type ModelConfigEntry,
  modelConfigEntries,
  readModelConfigFile,
  SUPPORTED_PLATFORMS,
  singleModelEntry,
  singleModelServerConfig,
} from "./model-config.js";
export { type PublishOptions, type PublishResult, publishVersion } from "./publish.js";
export type { S3Options } from "./s3-client.js";
export { ServerCore, type ServerCoreEvents, type ServerCoreOptions } from "./server-core.js";
export { computeLabelMap, type LabelMap, resolveLabel } from "./version-labels.js";
export {
  defaultModelCacheDir,
  type ListedVersion,
  type RemoteRepositoryOptions,
  remoteLister,
  type VersionLister,
  type VersionListing,
} from "./version-lister.js";
export {
  buildManifest,
  MANIFEST_NAME,
  type ManifestFile,
  parseManifest,
  type VersionManifest,
  verifyAgainstManifest,
} from "./version-manifest.js";
export {
  DEFAULT_VERSION_POLICY,
  describeVersionPolicy,
  selectVersions,
  type VersionPolicy,
  versionPolicyFromProto,
} from "./version-policy.js";
