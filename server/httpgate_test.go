package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
)

// TestRecvGate: a gated body is read at most recvAhead bytes beyond the
// last receive; a receive in progress lets reading go on; closing the body
// or ending the request releases a blocked reader.
func TestRecvGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := gated(httptest.NewRequest(http.MethodPost, "/x", bytes.NewReader(make([]byte, 3*recvAhead))))
		g := r.Context().Value(recvGateKey{}).(*recvGate)
		var read int64
		readDone := make(chan error, 1)
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := r.Body.Read(buf)
				read += int64(n)
				if err != nil {
					readDone <- err
					return
				}
			}
		}()
		synctest.Wait() // the reader is blocked in the gate
		if read != recvAhead {
			t.Fatalf("read %d bytes ahead of any receive, want %d", read, recvAhead)
		}
		end := g.receiving()
		synctest.Wait()
		if read != 3*recvAhead {
			t.Fatalf("during a receive %d bytes were read, want all %d", read, 3*recvAhead)
		}
		end()
		if err := <-readDone; err != io.EOF {
			t.Fatalf("reader ended with %v", err)
		}
	})
	t.Run("close releases", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := gated(httptest.NewRequest(http.MethodPost, "/x", bytes.NewReader(make([]byte, 2*recvAhead))))
			done := make(chan error, 1)
			go func() { _, err := io.Copy(io.Discard, r.Body); done <- err }()
			synctest.Wait()
			r.Body.Close()
			if err := <-done; !errors.Is(err, errBodyClosed) {
				t.Fatalf("reader ended with %v", err)
			}
		})
	})
	t.Run("request end releases", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			r := gated(httptest.NewRequestWithContext(ctx, http.MethodPost, "/x", bytes.NewReader(make([]byte, 2*recvAhead))))
			done := make(chan error, 1)
			go func() { _, err := io.Copy(io.Discard, r.Body); done <- err }()
			synctest.Wait()
			cancel()
			if err := <-done; !errors.Is(err, errBodyClosed) {
				t.Fatalf("reader ended with %v", err)
			}
		})
	})
}
