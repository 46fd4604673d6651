package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/wormvault/wormvault"
)

const (
	day  = 24 * time.Hour
	year = 365 * day // as in wormvault.MaxRetentionPeriod
)

// parsePeriod parses a duration flag: "30d", "10y" (365 days), or anything
// time.ParseDuration accepts ("720h"). It must be positive.
func parsePeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n := len(s); n >= 2 && strings.ContainsRune("dDyY", rune(s[n-1])) {
		v, err := strconv.ParseInt(s[:n-1], 10, 32)
		if err != nil || v <= 0 {
			return 0, usagef("period %q: want a positive number of days (30d) or years (10y)", s)
		}
		unit := day
		if s[n-1] == 'y' || s[n-1] == 'Y' {
			unit = year
		}
		return time.Duration(v) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("period %q: want a positive number of days (30d) or years (10y)", s)
	}
	return d, nil
}

// formatPeriod prints a duration the way parsePeriod reads it.
func formatPeriod(d time.Duration) string {
	switch {
	case d > 0 && d%year == 0:
		return strconv.FormatInt(int64(d/year), 10) + "y"
	case d > 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// parseRetention turns the retention flags of put and retention set into a
// retention. spec is "MODE:PERIOD" (retain-until = now + period) or a bare
// MODE; mode and until are the separate flags. Exactly one form must be
// used: MODE:PERIOD alone, or a mode (from spec or mode) with until (RFC 3339).
// All empty means no retention and set=false.
func parseRetention(spec, mode, until string, now time.Time) (r wormvault.Retention, set bool, err error) {
	if spec == "" && mode == "" && until == "" {
		return wormvault.Retention{}, false, nil
	}
	if strings.Contains(spec, ":") {
		if mode != "" || until != "" {
			return r, false, usagef("retention %q already names its period; drop --mode/--until", spec)
		}
		d, err := wormvault.ParseRetentionSpec(spec)
		if err != nil {
			return r, false, usagef("%w", err)
		}
		return wormvault.Retention{Mode: d.Mode, RetainUntil: d.Until(now)}, true, nil
	}
	if spec != "" && mode != "" {
		return r, false, usagef("give the retention mode once")
	}
	m, err := wormvault.ParseRetentionMode(firstNonEmpty(spec, mode))
	if err != nil {
		return r, false, usagef("%w (or MODE:PERIOD such as governance:30d)", err)
	}
	if until == "" {
		return r, false, usagef("retention mode %s needs a retain-until time (RFC 3339) or a period such as %s:30d",
			m, strings.ToLower(m.String()))
	}
	t, err := time.Parse(time.RFC3339, until)
	if err != nil {
		return r, false, usagef("retain-until %q: want RFC 3339, e.g. 2030-01-31T00:00:00Z", until)
	}
	return wormvault.Retention{Mode: m, RetainUntil: t}, true, nil
}

// parseMeta parses repeated --meta k=v flags.
func parseMeta(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	md := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--meta %q: want KEY=VALUE", kv)
		}
		md[k] = v
	}
	return md, nil
}
