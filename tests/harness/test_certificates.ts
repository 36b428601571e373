/**
 * A throwaway CA and a server certificate it signs for localhost and 127.0.0.1, made with
 * openssl in a temporary folder: what the TLS tests give a service as `TLS_CERT_FILE` and
 * `TLS_KEY_FILE`, and their clients as the CA to trust.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The files of {@link makeTestCertificates} and the CA's PEM text. */
export interface TestCertificates {
  /** The temporary folder holding them; the test removes it when done. */
  dir: string;
  /** The server certificate (`TLS_CERT_FILE`). */
  certFile: string;
  /** The server's private key (`TLS_KEY_FILE`). */
  keyFile: string;
  /** The CA certificate, PEM, for clients to trust. */
  caPem: string;
}

/**
 * Makes the CA and the server certificate (valid for a day).
 *
 * @example
 * ```ts ignore
 * const { certFile, keyFile, caPem } = await makeTestCertificates();
 * ```
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir();
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stderr: "piped" }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  // deno-fmt-ignore
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
    "/CN=test-ca", "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.pem`);
  // deno-fmt-ignore
  await openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
    `${dir}/key.pem`, "-out", `${dir}/server.csr`);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  // deno-fmt-ignore
  await openssl("x509", "-req", "-in", `${dir}/server.csr`, "-CA", `${dir}/ca.pem`, "-CAkey",
    `${dir}/ca.key`, "-CAcreateserial", "-days", "1", "-extfile", `${dir}/ext.cnf`, "-out",
    `${dir}/cert.pem`);
  return {
    dir,
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
  };
}
