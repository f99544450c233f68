// What the gRPC and REST clients share beyond their transport: the per-client signature cache, the
// default deadline, turning a GetModelStatusResponse into the client's statuses, and close().

import { Code } from "../errors.js";
import type { GetModelStatusResponse } from "../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import { SignatureCache, versionStateName } from "./signatures.js";
import type {
  CallOptions,
  ClientOptions,
  ModelMetadata,
  ModelVersionStatus,
  VersionChoice,
} from "./types.js";

/** A version-only model choice with call options, as `status` takes it. */
export type StatusOptions = { readonly version?: bigint | number } & CallOptions;

/**
 * The transport-independent half of a ServingClient; a transport supplies the calls.
 *
 * @example
 * class MyClient extends ServingClientBase implements ServingClient {
 *   // predict, classify, regress, metadata, modelStatus and closeTransport over some transport
 * }
 */
export abstract class ServingClientBase {
  /** Signatures by (model, version choice), fetched with this client's own `metadata`. */
  protected readonly signatures = new SignatureCache((model, choice) => this.metadata(model, choice));
  readonly #defaultDeadlineMs: number | undefined;

  constructor(options: ClientOptions) {
    this.#defaultDeadlineMs = options.deadlineMs;
  }

  abstract metadata(model: string, options?: VersionChoice & CallOptions): Promise<ModelMetadata>;

  /** The transport's GetModelStatus call. */
  protected abstract modelStatus(model: string, options: StatusOptions): Promise<GetModelStatusResponse>;

  /** Releases the transport's connections. */
  protected abstract closeTransport(): void;

  async status(model: string, options: StatusOptions = {}): Promise<ModelVersionStatus[]> {
    const response = await this.modelStatus(model, options);
    return response.modelVersionStatus.map((s) => ({
      version: s.version,
      state: versionStateName(s.state),
      errorCode: s.status?.errorCode ?? Code.OK,
      errorMessage: s.status?.errorMessage ?? "",
    }));
  }

  close(): void {
    this.signatures.clear();
    this.closeTransport();
  }

  /** The call's deadline in ms from now: its own, else the client's default (undefined: none). */
  protected deadlineMs(options: CallOptions): number | undefined {
    return options.deadlineMs ?? this.#defaultDeadlineMs;
  }
}
