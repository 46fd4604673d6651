package wormvault

import (
	"hash"

	sha256 "github.com/minio/sha256-simd"
)

// TreeChunkSize is the leaf size of the Glacier-style tree hash.
const TreeChunkSize = 1 << 20

// TreeHash computes the Glacier-style SHA-256 tree hash: SHA-256 of each
// 1 MiB chunk, then pairwise SHA-256 of concatenated digests, level by level,
// an odd digest moving up unchanged. The tree hash of no bytes is the SHA-256
// of no bytes. It streams: memory is one digest per tree level.
type TreeHash struct {
	leaf    hash.Hash
	inLeaf  int
	started bool
	// stack[i] holds a pending digest at level i, if any (a binary counter).
	stack [][]byte
	full  []bool
}

// NewTreeHash returns an empty tree hash.
func NewTreeHash() *TreeHash { return &TreeHash{leaf: sha256.New()} }

// Write adds bytes; it never fails.
func (t *TreeHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := TreeChunkSize - t.inLeaf
		if room > len(p) {
			room = len(p)
		}
		t.leaf.Write(p[:room])
		t.inLeaf += room
		t.started = true
		p = p[room:]
		if t.inLeaf == TreeChunkSize {
			t.push(t.leaf.Sum(nil))
			t.leaf.Reset()
			t.inLeaf = 0
		}
	}
	return n, nil
}

func (t *TreeHash) push(d []byte) {
	for level := 0; ; level++ {
		if level == len(t.stack) {
			t.stack = append(t.stack, nil)
			t.full = append(t.full, false)
		}
		if !t.full[level] {
			t.stack[level], t.full[level] = d, true
			return
		}
		d = pair(t.stack[level], d)
		t.stack[level], t.full[level] = nil, false
	}
}

func pair(a, b []byte) []byte {
	h := sha256.New()
	h.Write(a)
	h.Write(b)
	return h.Sum(nil)
}

// Sum returns the tree hash of everything written so far.
func (t *TreeHash) Sum() []byte {
	var acc []byte
	if t.inLeaf > 0 || !t.started {
		acc = t.leaf.Sum(nil)
	}
	// Fold pending digests from the lowest level up: a lower level holds
	// the rightmost (most recent) part of the tree.
	for level := 0; level < len(t.stack); level++ {
		if !t.full[level] {
			continue
		}
		if acc == nil {
			acc = t.stack[level]
		} else {
			acc = pair(t.stack[level], acc)
		}
	}
	return acc
}
