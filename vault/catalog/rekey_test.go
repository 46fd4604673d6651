package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// TestRekey: after Rekey the catalog holds the same data, opens under the
// new key only, and calls running meanwhile all succeed.
func TestRekey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "meta")
	keyA, keyB := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	c, err := Open(Options{Dir: dir, EncryptionKey: keyA})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Update(ctx, func(tx *Txn) error { return tx.PutMeta("x", []byte("before")) }); err != nil {
		t.Fatal(err)
	}
	// Readers and writers keep going while the key changes.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				err := c.Update(ctx, func(tx *Txn) error {
					if v, err := tx.Meta("x"); err != nil || v == nil {
						return fmt.Errorf("meta x: %q %v", v, err)
					}
					return tx.PutMeta(fmt.Sprintf("w%d", i), []byte{byte(n)})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	if err := c.Rekey(ctx, keyB); err != nil {
		t.Fatal(err)
	}
	if err := c.Rekey(ctx, keyB); err != nil {
		t.Fatalf("rekey to the key in use: %v", err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a call during Rekey: %v", err)
	}
	c.Close()
	if _, err := Open(Options{Dir: dir, EncryptionKey: keyA}); !errors.Is(err, ErrEncryptionKey) {
		t.Fatalf("open with the old key: %v, want ErrEncryptionKey", err)
	}
	c, err = Open(Options{Dir: dir, EncryptionKey: keyB})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.View(func(tx *Txn) error {
		v, err := tx.Meta("x")
		if err == nil && string(v) != "before" {
			err = fmt.Errorf("meta x = %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A wrong old key leaves the catalog as it was, open.
	c.opts.EncryptionKey = keyA
	if err := c.Rekey(ctx, bytes.Repeat([]byte{3}, 32)); !errors.Is(err, ErrEncryptionKey) {
		t.Fatalf("rekey from a key the registry is not under: %v", err)
	}
}

// TestVersionsAfter: paging visits every version once, in key order.
func TestVersionsAfter(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want []string
	err = c.Update(context.Background(), func(tx *Txn) error {
		for _, vault := range []string{"aaa", "bbb"} {
			for k := range 7 {
				v := &recordv1.Version{Vault: vault, Key: fmt.Sprintf("k%d", k), VersionId: newID(t)}
				want = append(want, v.GetVault()+"/"+v.GetKey())
				if err := tx.PutVersion(v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 3, 14, 100} {
		var got []string
		var after []byte
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			var recs []*recordv1.Version
			if err := c.View(func(tx *Txn) (err error) {
				recs, after, err = tx.VersionsAfter(after, limit)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				got = append(got, r.GetVault()+"/"+r.GetKey())
			}
			if after == nil {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("limit %d: visited %v, want %v", limit, got, want)
		}
	}
}

// TestRekeyNestedUse: a use that nests another while Rekey drains the
// catalog does not deadlock: Rekey lets it through and tries again.
func TestRekeyNestedUse(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir(), EncryptionKey: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	draining := func() bool {
		c.gate.mu.Lock()
		defer c.gate.mu.Unlock()
		return c.gate.blocked != nil
	}
	inside := make(chan struct{})
	nested := make(chan error, 1)
	go func() {
		nested <- c.View(func(*Txn) error {
			close(inside)
			for !draining() {
				runtime.Gosched()
			}
			return c.Update(ctx, func(tx *Txn) error { return tx.PutMeta("nested", []byte("ok")) })
		})
	}()
	<-inside
	if err := c.Rekey(ctx, bytes.Repeat([]byte{2}, 32)); err != nil {
		t.Fatal(err)
	}
	if err := <-nested; err != nil {
		t.Fatal(err)
	}
}
