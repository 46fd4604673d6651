package policy

import "strings"

// A glob is a pattern in which '*' matches any run of characters, '/'
// included, and every other character matches itself. It is split at Parse
// so that matching is a few prefix, suffix and substring tests: no regexp,
// no allocation.
type glob struct {
	// parts are the literal pieces between stars: "a*b*c" is ["a","b","c"],
	// "*" is ["",""], a pattern without a star is itself alone.
	parts []string
}

func compileGlob(pattern string) glob {
	return glob{parts: strings.Split(pattern, "*")}
}

// any reports whether the glob is "*" (or "**"…), which matches everything.
func (g glob) any() bool {
	for _, p := range g.parts {
		if p != "" {
			return false
		}
	}
	return len(g.parts) > 1
}

func (g glob) match(s string) bool {
	if len(g.parts) == 1 {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	// Taking each middle piece at its leftmost place leaves the most room
	// for the pieces after it, so the greedy scan is exact.
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// coversPrefix reports whether the glob matches every string that starts
// with prefix. The empty continuation must match, so the glob must match
// prefix itself; and a glob ending in '*' that matches prefix matches
// prefix+w for any w, the final star taking w. A glob ending in a literal
// fails for a continuation that does not end in that literal.
func (g glob) coversPrefix(prefix string) bool {
	return len(g.parts) > 1 && g.parts[len(g.parts)-1] == "" && g.match(prefix)
}
