"""Smoke test of the generated Python SDK against a running wormvault server.

The server is named by WORMVAULT_SERVER (host:port, plaintext gRPC) and the
credentials by WORMVAULT_TOKEN ("<key-id>.<secret>"), the same variables the
CLI reads. internal/e2e's TestSDKSmoke runs it against a real server during
`make test`; by hand, with a server from `make run`:

    WORMVAULT_SERVER=127.0.0.1:7420 \
    WORMVAULT_TOKEN=$(grep -v '^#' wormvault-data/root.credentials) \
    /usr/bin/python3 clients/python/smoke_test.py

It needs Debian's python3-grpcio and python3-protobuf (`make sdk-deps`),
which match the protoc that generated gen/.
"""

import hashlib
import os
import sys
import unittest
import uuid

# protoc's Python output imports its siblings by proto package path
# (`from wormvault.v1 import types_pb2`), so gen/ must be on the path.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402

from wormvault.v1 import archive_pb2, archive_pb2_grpc  # noqa: E402
from wormvault.v1 import vault_pb2, vault_pb2_grpc  # noqa: E402

CHUNK_SIZE = 64 * 1024
# A few hundred KiB, deliberately not a multiple of the chunk size, so the
# last chunk is short.
ARCHIVE_SIZE = 300 * 1024 + 123
# Every call has a deadline so that a hung server fails the test instead of
# stalling it.
TIMEOUT_SECONDS = 60


class SmokeTest(unittest.TestCase):
    def setUp(self):
        server = os.environ.get("WORMVAULT_SERVER")
        token = os.environ.get("WORMVAULT_TOKEN")
        if not server or not token:
            self.fail("set WORMVAULT_SERVER (host:port) and WORMVAULT_TOKEN (<key-id>.<secret>)")
        channel = grpc.insecure_channel(server)
        self.addCleanup(channel.close)
        self.auth = (("authorization", "Bearer " + token),)
        self.vaults = vault_pb2_grpc.VaultServiceStub(channel)
        self.archives = archive_pb2_grpc.ArchiveServiceStub(channel)

    def call(self, method, request):
        return method(request, metadata=self.auth, timeout=TIMEOUT_SECONDS)

    def test_upload_download_legal_hold(self):
        vault = "py-smoke-" + uuid.uuid4().hex[:12]
        key = "smoke/data.bin"
        data = os.urandom(ARCHIVE_SIZE)

        created = self.call(self.vaults.CreateVault, vault_pb2.CreateVaultRequest(name=vault))
        self.assertEqual(created.vault.name, vault)

        def upload_requests():
            yield archive_pb2.UploadArchiveRequest(
                header=archive_pb2.ArchiveHeader(
                    vault=vault,
                    key=key,
                    content_type="application/octet-stream",
                    metadata={"sdk": "python"},
                )
            )
            for off in range(0, len(data), CHUNK_SIZE):
                yield archive_pb2.UploadArchiveRequest(chunk=data[off : off + CHUNK_SIZE])

        uploaded = self.archives.UploadArchive(
            upload_requests(), metadata=self.auth, timeout=TIMEOUT_SECONDS
        ).archive
        self.assertEqual(uploaded.size_bytes, len(data))
        self.assertEqual(uploaded.sha256, hashlib.sha256(data).digest())
        self.assertTrue(uploaded.version_id)

        responses = self.call(
            self.archives.DownloadArchive,
            archive_pb2.DownloadArchiveRequest(vault=vault, key=key),
        )
        first = next(responses)
        self.assertEqual(first.WhichOneof("data"), "archive", "the first message carries the metadata")
        self.assertEqual(first.archive.version_id, uploaded.version_id)
        self.assertEqual(dict(first.archive.metadata), {"sdk": "python"})
        got = b"".join(r.chunk for r in responses)
        self.assertEqual(len(got), len(data))
        self.assertTrue(got == data, "downloaded bytes differ from the uploaded ones")
        self.assertEqual(hashlib.sha256(got).digest(), first.archive.sha256)

        held = self.call(
            self.archives.SetLegalHold,
            archive_pb2.SetLegalHoldRequest(
                vault=vault, key=key, legal_hold=True, hold_id="smoke", reason="python smoke test"
            ),
        )
        self.assertTrue(held.archive.legal_hold)
        holds = self.call(
            self.archives.GetLegalHold,
            archive_pb2.GetLegalHoldRequest(vault=vault, key=key),
        )
        self.assertTrue(holds.legal_hold)
        self.assertEqual(holds.version_id, uploaded.version_id)
        self.assertEqual(
            [(h.hold_id, h.reason) for h in holds.holds], [("smoke", "python smoke test")]
        )

    def test_errors_are_grpc_status_codes(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.call(
                self.archives.GetArchive,
                archive_pb2.GetArchiveRequest(vault="py-smoke-absent-" + uuid.uuid4().hex[:8], key="k"),
            )
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)

        with self.assertRaises(grpc.RpcError) as caught:
            self.vaults.ListVaults(vault_pb2.ListVaultsRequest(), timeout=TIMEOUT_SECONDS)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
