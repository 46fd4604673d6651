package server

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wormvault/wormvault/vault"
)

// CrashBeforeResponse is the server's crash point: a mutating archive call
// (upload, delete, retention, legal hold) returned from the store, so its
// change is committed, and the client has not been answered.
const CrashBeforeResponse = "before-response"

// CrashPoints lists every crash point of the server and its store.
func CrashPoints() []string {
	return append(vault.CrashPoints(), CrashBeforeResponse)
}

// crashPoint is Config.CrashPoint; nil does nothing.
type crashPoint func(name string)

func (f crashPoint) at(name string) {
	if f != nil {
		f(name)
	}
}

// CrashAt returns the crash hook of `wormvault serve --crash-at NAME[:N]`:
// at the Nth hit of point NAME (N defaults to 1) it logs the point and
// kills its own process with SIGKILL, so nothing after the point happens:
// no deferred cleanup, no graceful shutdown, as in a power cut of the
// process. It is for the crash harness (internal/crashtest) only.
func CrashAt(spec string, log *slog.Logger) (func(name string), error) {
	name, count, hasCount := strings.Cut(spec, ":")
	n := int64(1)
	if hasCount {
		var err error
		if n, err = strconv.ParseInt(count, 10, 64); err != nil || n < 1 {
			return nil, fmt.Errorf("crash point %q: the hit count after ':' must be a positive integer", spec)
		}
	}
	if !slices.Contains(CrashPoints(), name) {
		return nil, fmt.Errorf("crash point %q: unknown; known points: %s", name, strings.Join(CrashPoints(), ", "))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var hits atomic.Int64
	return func(point string) {
		if point != name || hits.Add(1) != n {
			return
		}
		log.Error("crash point reached: killing the process", "point", point, "hit", n)
		self, err := os.FindProcess(os.Getpid())
		if err == nil {
			err = self.Kill()
		}
		if err != nil {
			log.Error("crash point: could not kill the process", "err", err)
			os.Exit(137)
		}
		// Kill delivers SIGKILL to this process before it returns; the
		// goroutine never goes on past the point.
		select {}
	}, nil
}
