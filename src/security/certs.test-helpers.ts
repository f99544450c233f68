// Test certificates made with the openssl CLI at test time: a CA, a server certificate for
// 127.0.0.1/localhost, a client certificate from that CA, and a client certificate from another CA.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM contents. */
export interface TestCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** A client certificate signed by a different CA (must be refused under mTLS). */
  readonly otherClientKey: string;
  readonly otherClientCert: string;
}

const openssl = (args: readonly string[], cwd: string) =>
  execFileSync("openssl", args, { cwd, stdio: "pipe" });

/** A self-signed CA: `<name>.key`, `<name>.crt` in `dir`. */
function makeCa(dir: string, name: string): void {
  openssl(
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${name}`],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ],
    dir,
  );
}

/** A leaf `<name>.key`/`<name>.crt` signed by CA `<ca>` with the given X.509 v3 extensions. */
function makeLeaf(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
    ],
    dir,
  );
  openssl(
    [
      ...["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial"],
      ...["-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`],
    ],
    dir,
  );
}

/**
 * Generates the certificates into `dir` (created) and returns their PEM contents.
 *
 * @example
 * const certs = makeTestCerts(freshDir());
 * credentials.createSsl(Buffer.from(certs.caCert), Buffer.from(certs.clientKey), Buffer.from(certs.clientCert));
 */
export function makeTestCerts(dir: string): TestCerts {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeLeaf(dir, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  makeLeaf(dir, "client", "ca", "extendedKeyUsage=clientAuth\n");
  makeLeaf(dir, "other-client", "other-ca", "extendedKeyUsage=clientAuth\n");
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return {
    dir,
    caCert: read("ca.crt"),
    serverKey: read("server.key"),
    serverCert: read("server.crt"),
    clientKey: read("client.key"),
    clientCert: read("client.crt"),
    otherClientKey: read("other-client.key"),
    otherClientCert: read("other-client.crt"),
  };
}

/** An SSLConfig text proto with PEM contents, as TF Serving's --ssl_config_file holds them. */
export function sslConfigText(certs: TestCerts, clientVerify: boolean): string {
  return [
    `server_key: ${JSON.stringify(certs.serverKey)}`,
    `server_cert: ${JSON.stringify(certs.serverCert)}`,
    `custom_ca: ${JSON.stringify(clientVerify ? certs.caCert : "")}`,
    `client_verify: ${clientVerify}`,
  ].join("\n");
}
