package server_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
)

// receiptKey fetches the receipt public key over gRPC and checks its id.
func receiptKey(t *testing.T, c *conn) ed25519.PublicKey {
	t.Helper()
	resp, err := wormvaultv1.NewAuditServiceClient(c.cc).GetReceiptKey(c.ctx(), &wormvaultv1.GetReceiptKeyRequest{})
	if err != nil {
		t.Fatalf("GetReceiptKey: %v", err)
	}
	pub := ed25519.PublicKey(resp.GetPublicKey())
	if len(pub) != ed25519.PublicKeySize || resp.GetAlgorithm() != receipt.Algorithm || resp.GetKeyId() != receipt.KeyID(pub) {
		t.Fatalf("GetReceiptKey = %v", resp)
	}
	return pub
}

func signedOf(r *wormvaultv1.Receipt) receipt.Signed {
	return receipt.Signed{Payload: r.GetPayload(), Signature: r.GetSignature(), KeyID: r.GetKeyId()}
}

// uploadWithReceipt uploads data in one chunk and returns the whole
// response.
func uploadWithReceipt(t *testing.T, c *conn, h *wormvaultv1.ArchiveHeader, data []byte) *wormvaultv1.UploadArchiveResponse {
	t.Helper()
	st, err := c.archives.UploadArchive(c.ctx())
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: h}}), "send header")
	mustOK(t, st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: data}}), "send chunk")
	resp, err := st.CloseAndRecv()
	mustOK(t, err, "UploadArchive")
	return resp
}

// wantStatement verifies r against pub and checks that it states a's
// committed state after op.
func wantStatement(t *testing.T, pub ed25519.PublicKey, r *wormvaultv1.Receipt, op receipt.Operation, a *wormvaultv1.Archive, holds ...string) receipt.Statement {
	t.Helper()
	st, err := receipt.Verify(signedOf(r), pub)
	if err != nil {
		t.Fatalf("%s receipt does not verify: %v", op, err)
	}
	until := a.GetRetention().GetRetainUntilTime().AsTime()
	if st.Operation != op || st.Vault != a.GetVault() || st.Key != a.GetKey() || st.VersionID != a.GetVersionId() ||
		st.SizeBytes != a.GetSizeBytes() || !bytes.Equal(st.SHA256, a.GetSha256()) ||
		int(st.RetentionMode) != int(a.GetRetention().GetMode()) || (st.RetentionMode != 0 && !st.RetainUntil.Equal(until)) ||
		len(st.LegalHolds) != len(holds) {
		t.Fatalf("%s receipt states %+v\nfor archive %v", op, st, a)
	}
	for i, h := range holds {
		if st.LegalHolds[i] != h {
			t.Fatalf("%s receipt holds %v, want %v", op, st.LegalHolds, holds)
		}
	}
	return st
}

// TestReceipts: an upload, a retention change and a legal-hold change
// each return a receipt that verifies against GetReceiptKey and states
// what was committed; flipping any byte of one fails verification. Any
// authenticated caller may fetch the key.
func TestReceipts(t *testing.T) {
	fc := newFakeClock()
	_, c := startWithClock(t, fc)
	pub := receiptKey(t, c)
	c.createVault("receipts")

	data := []byte("the ledger of 2031")
	sum := sha256.Sum256(data)
	until := fc.now().Add(24 * time.Hour)
	up := uploadWithReceipt(t, c, &wormvaultv1.ArchiveHeader{Vault: "receipts", Key: "ledger", Retention: retention(gov, until), LegalHold: true}, data)
	a := up.GetArchive()
	st := wantStatement(t, pub, up.GetReceipt(), receipt.OpUpload, a, wormvault.DefaultHoldID)
	if !bytes.Equal(st.SHA256, sum[:]) || st.SizeBytes != int64(len(data)) || !st.CommitTime.Equal(a.GetCreateTime().AsTime()) {
		t.Fatalf("upload receipt %+v", st)
	}

	fc.advance(time.Minute)
	later := until.Add(24 * time.Hour)
	ret, err := c.archives.SetRetention(c.ctx(), &wormvaultv1.SetRetentionRequest{Vault: "receipts", Key: "ledger", VersionId: a.GetVersionId(), Retention: retention(gov, later)})
	mustOK(t, err, "SetRetention")
	st = wantStatement(t, pub, ret.GetReceipt(), receipt.OpRetention, ret.GetArchive(), wormvault.DefaultHoldID)
	if !st.RetainUntil.Equal(later) || !st.CommitTime.After(a.GetCreateTime().AsTime()) {
		t.Fatalf("retention receipt %+v", st)
	}

	fc.advance(time.Minute)
	hold, err := c.archives.SetLegalHold(c.ctx(), &wormvaultv1.SetLegalHoldRequest{Vault: "receipts", Key: "ledger", VersionId: a.GetVersionId(), LegalHold: true, HoldId: "case-7", Reason: "litigation"})
	mustOK(t, err, "SetLegalHold")
	wantStatement(t, pub, hold.GetReceipt(), receipt.OpLegalHold, hold.GetArchive(), "case-7", wormvault.DefaultHoldID)
	release, err := c.archives.SetLegalHold(c.ctx(), &wormvaultv1.SetLegalHoldRequest{Vault: "receipts", Key: "ledger", VersionId: a.GetVersionId(), HoldId: "case-7"})
	mustOK(t, err, "release hold")
	wantStatement(t, pub, release.GetReceipt(), receipt.OpLegalHold, release.GetArchive(), wormvault.DefaultHoldID)

	// No retention, no hold: the receipt says so.
	plain := uploadWithReceipt(t, c, &wormvaultv1.ArchiveHeader{Vault: "receipts", Key: "plain"}, []byte("x"))
	wantStatement(t, pub, plain.GetReceipt(), receipt.OpUpload, plain.GetArchive())

	// Every byte matters.
	r := signedOf(up.GetReceipt())
	for i := range r.Payload {
		bad := r
		bad.Payload = bytes.Clone(r.Payload)
		bad.Payload[i] ^= 0x20
		if _, err := receipt.Verify(bad, pub); !errors.Is(err, receipt.ErrSignature) {
			t.Fatalf("payload byte %d flipped: %v", i, err)
		}
	}
	for i := range r.Signature {
		bad := r
		bad.Signature = bytes.Clone(r.Signature)
		bad.Signature[i] ^= 0x01
		if _, err := receipt.Verify(bad, pub); !errors.Is(err, receipt.ErrSignature) {
			t.Fatalf("signature byte %d flipped: %v", i, err)
		}
	}

	// A principal with no policy at all may still fetch the key; an
	// unauthenticated caller may not.
	nobody := newPrincipal(t, c, "nobody", "")
	if got := receiptKey(t, nobody); !got.Equal(pub) {
		t.Fatal("another caller got another key")
	}
	_, err = wormvaultv1.NewAuditServiceClient(c.cc).GetReceiptKey(t.Context(), &wormvaultv1.GetReceiptKeyRequest{})
	wantStatus(t, err, codes.Unauthenticated, "")
}

// TestReceiptKeySurvivesRestartAndRebuild: the receipt key is the same
// after a restart and after the catalog is lost and rebuilt from the
// drives, so receipts issued before still verify against GetReceiptKey.
func TestReceiptKeySurvivesRestartAndRebuild(t *testing.T) {
	fc := newFakeClock()
	s, c := startWithClock(t, fc)
	pub := receiptKey(t, c)
	c.createVault("kept")
	up := uploadWithReceipt(t, c, &wormvaultv1.ArchiveHeader{Vault: "kept", Key: "k", Retention: retention(gov, fc.now().Add(time.Hour))}, []byte("kept"))

	s.Restart()
	c = dial(t, s)
	if got := receiptKey(t, c); !got.Equal(pub) {
		t.Fatal("the receipt key changed across a restart")
	}

	s.Stop()
	if err := os.RemoveAll(filepath.Join(s.DataDir, "meta")); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = dial(t, s)
	if s.Store().LastRebuild() == nil {
		t.Fatal("the server did not rebuild its catalog")
	}
	got := receiptKey(t, c)
	if !got.Equal(pub) {
		t.Fatal("the receipt key changed across a catalog rebuild")
	}
	wantStatement(t, got, up.GetReceipt(), receipt.OpUpload, c.archive("kept", "k", up.GetArchive().GetVersionId()))
}
