package policy

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"vaults/v1", "vaults/v1", true},
		{"vaults/v1", "vaults/v12", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"vaults/*", "vaults/v1/archives/k", true},
		{"vaults/*/archives/2026/*", "vaults/v1/archives/2026/a/b", true},
		{"vaults/*/archives/2026/*", "vaults/v1/archives/2025/2026/", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*ab*ab*", "abab", true},
		{"*ab*ab*", "aba", false},
		{"wormvault:Get*", "wormvault:GetArchive", true},
		{"wormvault:*Archive", "wormvault:GetArchive", true},
		{"wormvault:*Archive", "wormvault:GetArchives", false},
	}
	for _, tt := range tests {
		if got := compileGlob(tt.pattern).match(tt.s); got != tt.want {
			t.Errorf("glob %q match %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestGlobAgainstRegexp compares match with the equivalent regexp on random
// patterns and strings over a small alphabet, where near misses are common.
func TestGlobAgainstRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		pattern, s := word("ab*", 7), word("ab", 8)
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`^(?s)` + strings.Join(parts, ".*") + `$`)
		g := compileGlob(pattern)
		if got, want := g.match(s), re.MatchString(s); got != want {
			t.Fatalf("glob %q match %q = %v, regexp says %v", pattern, s, got, want)
		}
		// coversPrefix(s) must mean: s followed by anything matches.
		if g.coversPrefix(s) {
			for _, tail := range []string{"", "a", "b", "ab", "ba", "bba"} {
				if !g.match(s + tail) {
					t.Fatalf("glob %q covers prefix %q but misses %q", pattern, s, s+tail)
				}
			}
		} else if g.match(s) && g.match(s+"a") && g.match(s+"b") && g.match(s+"ab") && g.match(s+"ba") && g.match(s+"bb") && g.match(s+"aa") {
			t.Fatalf("glob %q does not cover prefix %q but matches every tail tried", pattern, s)
		}
	}
}
