package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestSDKReceipts: Upload, SetRetention and SetLegalHold hand back
// receipts that VerifyReceipt checks against ReceiptKey; the JSON form
// survives a round trip and catches an edited decoded section.
func TestSDKReceipts(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "sdk-receipts"); err != nil {
		t.Fatal(err)
	}
	key, err := c.ReceiptKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if key.Algorithm != receipt.Algorithm || key.KeyID != receipt.KeyID(key.PublicKey) {
		t.Fatalf("ReceiptKey = %+v", key)
	}

	data := []byte("receipted bytes")
	var up client.Receipt
	a, err := c.Upload(ctx, "sdk-receipts", "doc", bytes.NewReader(data), client.WithLegalHold(), client.WithReceipt(&up))
	if err != nil {
		t.Fatal(err)
	}
	st, err := client.VerifyReceipt(up, key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if st.Operation != receipt.OpUpload || st.VersionID != a.GetVersionId() || !bytes.Equal(st.SHA256, sum[:]) || len(st.LegalHolds) != 1 {
		t.Fatalf("upload receipt states %+v", st)
	}

	var ret client.Receipt
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if _, err := c.SetRetention(ctx, "sdk-receipts", "doc", a.GetVersionId(), wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until}, false, client.WithChangeReceipt(&ret)); err != nil {
		t.Fatal(err)
	}
	if st, err = client.VerifyReceipt(ret, key.PublicKey); err != nil || st.Operation != receipt.OpRetention || !st.RetainUntil.Equal(until) {
		t.Fatalf("retention receipt %+v, %v", st, err)
	}
	var hold client.Receipt
	if _, err := c.SetLegalHold(ctx, "sdk-receipts", "doc", a.GetVersionId(), false, "", "", client.WithChangeReceipt(&hold)); err != nil {
		t.Fatal(err)
	}
	if st, err = client.VerifyReceipt(hold, key.PublicKey); err != nil || st.Operation != receipt.OpLegalHold || len(st.LegalHolds) != 0 {
		t.Fatalf("legal hold receipt %+v, %v", st, err)
	}

	// The JSON form: a round trip keeps the evidence; decoded is checked.
	b, err := json.Marshal(up)
	if err != nil {
		t.Fatal(err)
	}
	var back client.Receipt
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back.Payload, up.Payload) || !bytes.Equal(back.Signature, up.Signature) || back.KeyID != up.KeyID {
		t.Fatalf("JSON round trip: %+v, %v", back, err)
	}
	var j client.ReceiptJSON
	if err := json.Unmarshal(b, &j); err != nil || j.Decoded == nil || j.Decoded.VersionID != a.GetVersionId() {
		t.Fatalf("ReceiptJSON %s: %+v, %v", b, j, err)
	}
	if _, err := j.Verify(key.PublicKey); err != nil {
		t.Fatal(err)
	}
	j.Decoded.Key = "another"
	if _, err := j.Verify(key.PublicKey); !errors.Is(err, receipt.ErrMalformed) {
		t.Fatalf("edited decoded section: %v", err)
	}
	up.Payload[len(up.Payload)-1] ^= 1
	if _, err := client.VerifyReceipt(up, key.PublicKey); !errors.Is(err, receipt.ErrSignature) {
		t.Fatalf("edited payload: %v", err)
	}
	if _, err := client.VerifyReceipt(client.Receipt{}, key.PublicKey); !errors.Is(err, receipt.ErrMalformed) {
		t.Fatalf("empty receipt: %v", err)
	}
}
