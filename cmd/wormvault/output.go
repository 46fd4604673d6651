package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// writeJSON prints m as one indented protojson document.
func writeJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeJSONLine prints m as one compact protojson line (JSON lines).
func writeJSONLine(w io.Writer, m proto.Message) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// newTable returns an aligned table writer; Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// humanBytes prints a size with IEC units: 0 B, 1023 B, 1.5 KiB, 4.0 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatTime prints a timestamp in RFC 3339 (UTC), "-" when unset.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func formatSHA(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// modeName prints a retention mode as GOVERNANCE / COMPLIANCE.
func modeName(m wormvaultv1.RetentionMode) string {
	return strings.TrimPrefix(m.String(), "RETENTION_MODE_")
}

// formatRetention prints "COMPLIANCE until 2033-03-01T00:00:00Z", "none".
func formatRetention(r *wormvaultv1.Retention) string {
	if r == nil || r.GetMode() == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return "none"
	}
	s := modeName(r.GetMode()) + " until " + formatTime(r.GetRetainUntilTime())
	if r.GetFromDefault() {
		s += " (vault default)"
	}
	return s
}

// formatDefaultRetention prints a vault default in the flag form,
// "compliance:7y", or "none".
func formatDefaultRetention(d *wormvaultv1.DefaultRetention) string {
	if d == nil || d.GetMode() == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return "none"
	}
	mode := strings.ToLower(modeName(d.GetMode()))
	if d.GetYears() > 0 {
		return fmt.Sprintf("%s:%dy", mode, d.GetYears())
	}
	return fmt.Sprintf("%s:%dd", mode, d.GetDays())
}

// formatHolds prints "no" or "yes (id1, id2)".
func formatHolds(a *wormvaultv1.Archive) string {
	if !a.GetLegalHold() {
		return "no"
	}
	var ids []string
	for _, h := range a.GetLegalHolds() {
		ids = append(ids, h.GetHoldId())
	}
	if len(ids) == 0 {
		return "yes"
	}
	return "yes (" + strings.Join(ids, ", ") + ")"
}

// writeFields prints label: value pairs, aligned.
func writeFields(w io.Writer, fields [][2]string) error {
	tw := newTable(w)
	for _, f := range fields {
		row(tw, f[0]+":", f[1])
	}
	return tw.Flush()
}

func archiveFields(a *wormvaultv1.Archive) [][2]string {
	f := [][2]string{
		{"vault", a.GetVault()},
		{"key", a.GetKey()},
		{"version", a.GetVersionId()},
	}
	if a.GetDeleteMarker() {
		f = append(f, [2]string{"delete marker", "yes"})
	} else {
		f = append(f,
			[2]string{"size", fmt.Sprintf("%s (%d bytes)", humanBytes(a.GetSizeBytes()), a.GetSizeBytes())},
			[2]string{"sha256", formatSHA(a.GetSha256())},
		)
		if ct := a.GetContentType(); ct != "" {
			f = append(f, [2]string{"content type", ct})
		}
	}
	f = append(f,
		[2]string{"created", formatTime(a.GetCreateTime())},
		[2]string{"latest", yesNo(a.GetIsLatest())},
		[2]string{"retention", formatRetention(a.GetRetention())},
		[2]string{"legal hold", formatHolds(a)},
	)
	for _, k := range slices.Sorted(maps.Keys(a.GetMetadata())) {
		f = append(f, [2]string{"meta " + k, a.GetMetadata()[k]})
	}
	return f
}

// formatMaxRetention prints a vault's cap as a period, "-" when unset.
func formatMaxRetention(v *wormvaultv1.Vault) string {
	if v.GetMaxRetention() == nil {
		return "-"
	}
	return formatPeriod(v.GetMaxRetention().AsDuration())
}

func vaultFields(v *wormvaultv1.Vault) [][2]string {
	return [][2]string{
		{"name", v.GetName()},
		{"created", formatTime(v.GetCreateTime())},
		{"default retention", formatDefaultRetention(v.GetDefaultRetention())},
		{"max retention", formatMaxRetention(v)},
		{"mfa delete", yesNo(v.GetMfaDelete())},
	}
}

// output prints one response: protojson with --json, else the human form.
func (a *app) output(m proto.Message, human func(w io.Writer) error) error {
	if a.json {
		return writeJSON(a.stdout, m)
	}
	return human(a.stdout)
}
