package server

// Flow control for client streams that arrive over the HTTP listener. gRPC
// over its own listener is flow-controlled by HTTP/2: an upload is read
// from the network only as fast as the handler takes its chunks. A call
// handed to grpc.Server.ServeHTTP in process is not: its transport reads
// the request body as fast as it arrives into an unbounded buffer, so a
// large upload over HTTP would sit in memory whenever the drives are slower
// than the network. A recvGate restores the bound: the body is read only
// while the handler waits in RecvMsg, or up to recvAhead bytes beyond the
// point where it last did.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"google.golang.org/grpc"
)

// recvAhead is how far a client stream's body may be read ahead of its
// handler: one more chunk of the largest size, so reading the next chunk
// overlaps storing this one.
const recvAhead = MaxChunkSize

type recvGateKey struct{}

// errBodyClosed is what a gated body read returns once closed.
var errBodyClosed = errors.New("server: request body closed")

// recvGate meters one request body against its handler's receives.
type recvGate struct {
	mu      sync.Mutex
	waiting int   // receives in progress
	ahead   int64 // bytes read since a receive last began
	changed chan struct{}
	closed  chan struct{}
	done    <-chan struct{} // the request's context
	once    sync.Once
}

func newRecvGate(ctx context.Context) *recvGate {
	return &recvGate{changed: make(chan struct{}), closed: make(chan struct{}), done: ctx.Done()}
}

// gated returns r with a gate on its body, for the handler's receives to
// open (recvGateStream).
func gated(r *http.Request) *http.Request {
	g := newRecvGate(r.Context())
	r = r.WithContext(context.WithValue(r.Context(), recvGateKey{}, g))
	r.Body = &gatedBody{ReadCloser: r.Body, g: g}
	return r
}

// signal wakes the readers waiting for a change; mu is held.
func (g *recvGate) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// receiving marks a receive begun; its return marks it ended.
func (g *recvGate) receiving() (end func()) {
	g.mu.Lock()
	g.waiting++
	g.ahead = 0
	g.signal()
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}
}

// wait blocks until the body may be read.
func (g *recvGate) wait() error {
	for {
		g.mu.Lock()
		if g.waiting > 0 || g.ahead < recvAhead {
			g.mu.Unlock()
			return nil
		}
		changed := g.changed
		g.mu.Unlock()
		select {
		case <-changed:
		case <-g.closed:
			return errBodyClosed
		case <-g.done:
			return errBodyClosed
		}
	}
}

func (g *recvGate) read(n int) {
	g.mu.Lock()
	g.ahead += int64(n)
	g.mu.Unlock()
}

// gatedBody is a request body read through a recvGate. Close releases a
// reader blocked in the gate: the gRPC transport closes the body when the
// call ends, then waits for its reader.
type gatedBody struct {
	io.ReadCloser
	g *recvGate
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if err := b.g.wait(); err != nil {
		return 0, err
	}
	n, err := b.ReadCloser.Read(p)
	b.g.read(n)
	return n, err
}

func (b *gatedBody) Close() error {
	b.g.once.Do(func() { close(b.g.closed) })
	return b.ReadCloser.Close()
}

// recvGateStream is the innermost stream interceptor: it opens the gate of
// a call that came through the HTTP listener whenever the handler waits
// for a message.
func recvGateStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	g, _ := ss.Context().Value(recvGateKey{}).(*recvGate)
	if g == nil || !info.IsClientStream {
		return handler(srv, ss)
	}
	return handler(srv, &gatedStream{ServerStream: ss, g: g})
}

type gatedStream struct {
	grpc.ServerStream
	g *recvGate
}

func (s *gatedStream) RecvMsg(m any) error {
	defer s.g.receiving()()
	return s.ServerStream.RecvMsg(m)
}

// clientStreams are the paths of the gRPC server's client-streaming
// methods, whose HTTP requests need a gate.
func clientStreams(gs *grpc.Server) map[string]bool {
	out := map[string]bool{}
	for svc, info := range gs.GetServiceInfo() {
		for _, m := range info.Methods {
			if m.IsClientStream {
				out["/"+svc+"/"+m.Name] = true
			}
		}
	}
	return out
}

// gateClientStreams puts a gate on the requests for client-streaming
// methods (Connect, gRPC-Web and gRPC on the HTTP listener). Unary calls
// are bounded by their message size limit instead, and their receive
// goes through no stream interceptor to open a gate.
func gateClientStreams(streams map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streams[r.URL.Path] {
			r = gated(r)
		}
		next.ServeHTTP(w, r)
	})
}
