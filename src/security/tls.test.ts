import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, credentials, type Server as GrpcServer, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { startGrpcServer } from "../api/tfs-grpc/server.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import type { ServerCore } from "../core/server-core.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { makeTestCerts, sslConfigText, type TestCerts } from "./certs.test-helpers.js";
import { floats, grpcCall, httpsCall, twoModelCore } from "./security.test-helpers.js";
import { grpcServerCredentials, parseSslConfig, readSslConfigFile, type TlsSettings } from "./tls.js";

const P = PredictionService.method;
const PREDICT_BODY = '{"instances": [1.0, 2.0, 5.0]}';
const PREDICT_PATH = "/v1/models/half_plus_two:predict";

describe("SSLConfig (--ssl_config_file)", () => {
  const freshDir = useScratchDir("tls-config");
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts(freshDir("certs"));
  });

  it("reads PEM contents as TF Serving does", async () => {
    const tls = await parseSslConfig(sslConfigText(certs, true), "ssl.pbtxt");
    assert.equal(tls.key, certs.serverKey);
    assert.equal(tls.cert, certs.serverCert);
    assert.equal(tls.ca, certs.caCert);
    assert.equal(tls.clientVerify, true);
    const plain = await parseSslConfig(sslConfigText(certs, false), "ssl.pbtxt");
    assert.equal(plain.ca, undefined);
    assert.equal(plain.clientVerify, false);
  });

  it("also reads file paths relative to the config file (extension)", async () => {
    const path = join(certs.dir, "ssl.pbtxt");
    writeFileSync(
      path,
      'server_key: "server.key"\nserver_cert: "server.crt"\ncustom_ca: "ca.crt"\nclient_verify: true\n',
    );
    const tls = await readSslConfigFile(path);
    assert.equal(tls.key, certs.serverKey);
    assert.equal(tls.ca, certs.caCert);
  });

  it("fails early with the file and problem named, never the key material", async () => {
    await assert.rejects(parseSslConfig(`server_cert: ${JSON.stringify(certs.serverCert)}`, "a.pbtxt"), {
      message: "--ssl_config_file a.pbtxt: server_key and server_cert are both required",
    });
    // A key that does not belong to the certificate.
    const mismatched = sslConfigText({ ...certs, serverKey: certs.clientKey }, false);
    await assert.rejects(parseSslConfig(mismatched, "b.pbtxt"), (error: Error) => {
      assert.match(error.message, /^--ssl_config_file b\.pbtxt: server_key\/server_cert unusable/);
      assert.ok(!error.message.includes("PRIVATE KEY"));
      return true;
    });
    const broken = `server_key: ${JSON.stringify(certs.serverKey)} server_cert: oops`;
    await assert.rejects(parseSslConfig(broken, "c.pbtxt"), (error: Error) => {
      assert.equal(error.message, "--ssl_config_file c.pbtxt: not a valid text tensorflow.serving.SSLConfig");
      return true;
    });
  });
});

describe("TLS and mTLS on the gRPC and REST ports", needsFixtures, () => {
  const freshDir = useScratchDir("tls");
  let certs: TestCerts;
  let core: ServerCore;
  const closers: (() => void)[] = [];

  before(async () => {
    certs = makeTestCerts(freshDir("certs"));
    core = await twoModelCore(freshDir("models"));
  });
  after(async () => {
    for (const close of closers) close();
    await core.stop();
  });

  /** Both servers with `tls`; returns their ports. */
  const serve = async (tls: TlsSettings) => {
    const grpc = await startGrpcServer({
      core,
      port: 0,
      host: "127.0.0.1",
      credentials: grpcServerCredentials(tls),
    });
    const rest = await startRestServer({ backend: core, port: 0, host: "127.0.0.1", tls });
    closers.push(() => (grpc.server as GrpcServer).forceShutdown());
    closers.push(() => {
      rest.server.close();
      rest.server.closeAllConnections();
    });
    return { grpcPort: grpc.port, restPort: rest.port };
  };
  const grpcClient = (port: number, client?: { key: string; cert: string }) => {
    const creds = credentials.createSsl(
      Buffer.from(certs.caCert),
      client ? Buffer.from(client.key) : null,
      client ? Buffer.from(client.cert) : null,
    );
    // The certificate names 127.0.0.1 too; the override only keeps an IP out of the TLS ServerName (RFC 6066).
    const c = new Client(`127.0.0.1:${port}`, creds, { "grpc.ssl_target_name_override": "localhost" });
    closers.push(() => c.close());
    return c;
  };
  const predictOverGrpc = (client: Client) =>
    grpcCall(client, P.predict, { modelSpec: { name: "half_plus_two" }, inputs: { x: floats([1, 2, 5]) } });

  it("TLS: gRPC Predict and REST predict answer correctly over TLS", async () => {
    const { grpcPort, restPort } = await serve(
      await parseSslConfig(sslConfigText(certs, false), "ssl.pbtxt"),
    );
    const response = await predictOverGrpc(grpcClient(grpcPort));
    assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3, 4.5]);
    const reply = await httpsCall(restPort, PREDICT_PATH, { ca: certs.caCert }, PREDICT_BODY);
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text), { predictions: [2.5, 3, 4.5] });
  });

  it("TLS: a plaintext gRPC client is refused", async () => {
    const { grpcPort } = await serve(await parseSslConfig(sslConfigText(certs, false), "ssl.pbtxt"));
    const plain = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    closers.push(() => plain.close());
    await assert.rejects(predictOverGrpc(plain), (error: ServiceError) => error.code === status.UNAVAILABLE);
  });

  describe("mTLS (client_verify: true)", () => {
    let ports: { grpcPort: number; restPort: number };
    before(async () => {
      ports = await serve(await parseSslConfig(sslConfigText(certs, true), "ssl.pbtxt"));
    });

    it("a client certificate from custom_ca is accepted on both ports", async () => {
      const client = { key: certs.clientKey, cert: certs.clientCert };
      const response = await predictOverGrpc(grpcClient(ports.grpcPort, client));
      assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3, 4.5]);
      const reply = await httpsCall(
        ports.restPort,
        PREDICT_PATH,
        { ca: certs.caCert, ...client },
        PREDICT_BODY,
      );
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.text), { predictions: [2.5, 3, 4.5] });
    });

    it("gRPC refuses a client without a certificate and one from another CA", async () => {
      await assert.rejects(predictOverGrpc(grpcClient(ports.grpcPort)), (error: ServiceError) => {
        assert.equal(error.code, status.UNAVAILABLE, error.details);
        return true;
      });
      const other = { key: certs.otherClientKey, cert: certs.otherClientCert };
      await assert.rejects(predictOverGrpc(grpcClient(ports.grpcPort, other)), (error: ServiceError) => {
        assert.equal(error.code, status.UNAVAILABLE, error.details);
        return true;
      });
    });

    it("REST refuses a client without a certificate and one from another CA", async () => {
      // The handshake fails (a TLS alert, or the server hangs up), so no HTTP status ever comes back.
      const handshakeRefused = (error: NodeJS.ErrnoException) => {
        assert.match(
          String(error.code),
          /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_.*ALERT.*|ECONNRESET)$/,
        );
        return true;
      };
      await assert.rejects(
        httpsCall(ports.restPort, PREDICT_PATH, { ca: certs.caCert }, PREDICT_BODY),
        handshakeRefused,
      );
      const other = { ca: certs.caCert, key: certs.otherClientKey, cert: certs.otherClientCert };
      await assert.rejects(httpsCall(ports.restPort, PREDICT_PATH, other, PREDICT_BODY), handshakeRefused);
      // And the port still serves verified clients afterwards.
      const good = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };
      assert.equal((await httpsCall(ports.restPort, PREDICT_PATH, good, PREDICT_BODY)).status, 200);
    });
  });
});
