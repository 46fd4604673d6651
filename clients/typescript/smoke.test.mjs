// Smoke test of the generated TypeScript SDK against a running wormvault
// server, with Node's own test runner and no TypeScript toolchain: the
// generated code is JavaScript with .d.ts beside it (target=js+dts).
//
// The server is named by WORMVAULT_SERVER (host:port, plaintext gRPC) and the
// credentials by WORMVAULT_TOKEN ("<key-id>.<secret>"), the same variables the
// CLI reads. internal/e2e's TestSDKSmoke runs it against a real server during
// `make test`; by hand, with a server from `make run` and `make sdk-deps`:
//
//   WORMVAULT_SERVER=127.0.0.1:7420 \
//   WORMVAULT_TOKEN=$(grep -v '^#' wormvault-data/root.credentials) \
//   node clients/typescript/smoke.test.mjs

import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { after, test } from "node:test";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { ArchiveService } from "./gen/wormvault/v1/archive_pb.js";
import { VaultService } from "./gen/wormvault/v1/vault_pb.js";

const CHUNK_SIZE = 64 * 1024;
// A few hundred KiB, deliberately not a multiple of the chunk size, so the
// last chunk is short.
const ARCHIVE_SIZE = 300 * 1024 + 123;
// Every call has a deadline so that a hung server fails the test instead of
// stalling it.
const TIMEOUT_MS = 60_000;

const server = process.env.WORMVAULT_SERVER;
const token = process.env.WORMVAULT_TOKEN;
if (!server || !token) {
  throw new Error("set WORMVAULT_SERVER (host:port) and WORMVAULT_TOKEN (<key-id>.<secret>)");
}

const baseUrl = `http://${server}`;
// One HTTP/2 connection for the whole test, closed at the end so that Node
// exits instead of idling on it.
const sessionManager = new Http2SessionManager(baseUrl);
after(() => sessionManager.abort());

function transport(headers) {
  return createGrpcTransport({
    baseUrl,
    sessionManager,
    interceptors: [
      (next) => (req) => {
        for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
        return next(req);
      },
    ],
  });
}

const authenticated = transport({ authorization: `Bearer ${token}` });
const vaults = createClient(VaultService, authenticated);
const archives = createClient(ArchiveService, authenticated);
const call = { timeoutMs: TIMEOUT_MS };

const sha256 = (bytes) => createHash("sha256").update(bytes).digest();

test("upload, download, compare, legal hold", async () => {
  const vault = `ts-smoke-${randomUUID().slice(0, 12)}`;
  const key = "smoke/data.bin";
  const data = new Uint8Array(randomBytes(ARCHIVE_SIZE));

  const created = await vaults.createVault({ name: vault }, call);
  assert.equal(created.vault?.name, vault);

  async function* uploadRequests() {
    yield {
      data: {
        case: "header",
        value: { vault, key, contentType: "application/octet-stream", metadata: { sdk: "typescript" } },
      },
    };
    for (let off = 0; off < data.length; off += CHUNK_SIZE) {
      yield { data: { case: "chunk", value: data.subarray(off, off + CHUNK_SIZE) } };
    }
  }
  const { archive: uploaded } = await archives.uploadArchive(uploadRequests(), call);
  assert.ok(uploaded);
  assert.equal(uploaded.sizeBytes, BigInt(data.length));
  assert.deepEqual(Buffer.from(uploaded.sha256), sha256(data));
  assert.ok(uploaded.versionId);

  let meta;
  const chunks = [];
  for await (const res of archives.downloadArchive({ vault, key }, call)) {
    if (res.data.case === "archive") {
      assert.equal(meta, undefined, "metadata comes once, first");
      meta = res.data.value;
    } else if (res.data.case === "chunk") {
      assert.ok(meta, "the first message carries the metadata");
      chunks.push(res.data.value);
    }
  }
  assert.equal(meta.versionId, uploaded.versionId);
  assert.deepEqual(meta.metadata, { sdk: "typescript" });
  const got = Buffer.concat(chunks);
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), "downloaded bytes differ from the uploaded ones");
  assert.deepEqual(sha256(got), Buffer.from(meta.sha256));

  const held = await archives.setLegalHold(
    { vault, key, legalHold: true, holdId: "smoke", reason: "typescript smoke test" },
    call,
  );
  assert.equal(held.archive?.legalHold, true);
  const holds = await archives.getLegalHold({ vault, key }, call);
  assert.equal(holds.legalHold, true);
  assert.equal(holds.versionId, uploaded.versionId);
  assert.deepEqual(
    holds.holds.map((h) => [h.holdId, h.reason]),
    [["smoke", "typescript smoke test"]],
  );
});

test("errors are gRPC status codes", async () => {
  await assert.rejects(
    archives.getArchive({ vault: `ts-smoke-absent-${randomUUID().slice(0, 8)}`, key: "k" }, call),
    (err) => ConnectError.from(err).code === Code.NotFound,
  );
  const anonymous = createClient(VaultService, transport({}));
  await assert.rejects(
    anonymous.listVaults({}, call),
    (err) => ConnectError.from(err).code === Code.Unauthenticated,
  );
});
