// Package accesslog is the access-log record: one request against a vault
// whose logging is on, its newline-delimited JSON encoding, and the names of
// the archives that carry batches of records into the target vault. It is
// pure: no storage, no clock, no network.
//
// The JSON form is a published format (DuckDB, jq and Athena-style engines
// read the archives directly): one object per line, the field names and
// their meaning below never change, and fields are only ever added.
//
//	time         RFC 3339 with nanoseconds, UTC: when the request arrived
//	request_id   the id the server gave the request (its logs carry it too)
//	principal    who made it; "" when it was not authenticated
//	remote_addr  the client's host:port
//	tls          whether it came over TLS
//	rpc          the gRPC full method, "/wormvault.v1.ArchiveService/GetArchive"
//	vault        the vault the request named (through an access point: its vault)
//	key          the archive key it named, "" for none
//	version_id   the version it named, or the version an upload created
//	status       the gRPC status code name: "OK", "PERMISSION_DENIED", ...
//	reason       the google.rpc.ErrorInfo reason of a failure ("POLICY_DENIED")
//	bytes_in     bytes of request messages received (protobuf encoded)
//	bytes_out    bytes of response messages sent (protobuf encoded)
//	duration_ms  milliseconds from arrival to the final status, to the µs
//	user_agent   the client's user-agent header
//	access_point the access point the request came through ("ap/NAME" named
//	             NAME), "" for a direct request
package accesslog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Record is one request against a vault whose logging is on.
type Record struct {
	Time       time.Time
	RequestID  string
	Principal  string
	RemoteAddr string
	TLS        bool
	RPC        string
	Vault      string
	Key        string
	VersionID  string
	Status     string
	Reason     string
	BytesIn    int64
	BytesOut   int64
	Duration   time.Duration
	UserAgent  string
	// AccessPoint is the access point the request came through, "" for
	// none.
	AccessPoint string
}

// line is the JSON form of a Record. The order of the fields is the order
// of the keys in every line.
type line struct {
	Time        string  `json:"time"`
	RequestID   string  `json:"request_id"`
	Principal   string  `json:"principal"`
	RemoteAddr  string  `json:"remote_addr"`
	TLS         bool    `json:"tls"`
	RPC         string  `json:"rpc"`
	Vault       string  `json:"vault"`
	Key         string  `json:"key"`
	VersionID   string  `json:"version_id"`
	Status      string  `json:"status"`
	Reason      string  `json:"reason"`
	BytesIn     int64   `json:"bytes_in"`
	BytesOut    int64   `json:"bytes_out"`
	DurationMS  float64 `json:"duration_ms"`
	UserAgent   string  `json:"user_agent"`
	AccessPoint string  `json:"access_point"`
}

// Append appends r as one JSON line, newline included, to dst.
func Append(dst []byte, r Record) ([]byte, error) {
	l := line{
		Time:        r.Time.UTC().Format(time.RFC3339Nano),
		RequestID:   r.RequestID,
		Principal:   r.Principal,
		RemoteAddr:  r.RemoteAddr,
		TLS:         r.TLS,
		RPC:         r.RPC,
		Vault:       r.Vault,
		Key:         r.Key,
		VersionID:   r.VersionID,
		Status:      r.Status,
		Reason:      r.Reason,
		BytesIn:     r.BytesIn,
		BytesOut:    r.BytesOut,
		DurationMS:  float64(r.Duration.Microseconds()) / 1000,
		UserAgent:   r.UserAgent,
		AccessPoint: r.AccessPoint,
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	// Keys and user agents stay readable: no \u003c for '<'.
	enc.SetEscapeHTML(false)
	// Invalid UTF-8 in a key or user agent is replaced, not an error.
	if err := enc.Encode(l); err != nil {
		return dst, fmt.Errorf("accesslog: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrFormat means a line is not an access-log record.
var ErrFormat = errors.New("accesslog: not an access-log record")

// Parse decodes one JSON line (with or without its newline). Unknown
// fields are ignored, so lines written by a newer server still parse.
func Parse(b []byte) (Record, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return Record{}, fmt.Errorf("%w: time %q: %w", ErrFormat, l.Time, err)
	}
	if l.RPC == "" || l.Status == "" {
		return Record{}, fmt.Errorf("%w: rpc and status are required", ErrFormat)
	}
	return Record{
		Time:        t,
		RequestID:   l.RequestID,
		Principal:   l.Principal,
		RemoteAddr:  l.RemoteAddr,
		TLS:         l.TLS,
		RPC:         l.RPC,
		Vault:       l.Vault,
		Key:         l.Key,
		VersionID:   l.VersionID,
		Status:      l.Status,
		Reason:      l.Reason,
		BytesIn:     l.BytesIn,
		BytesOut:    l.BytesOut,
		Duration:    time.Duration(math.Round(l.DurationMS*1000)) * time.Microsecond,
		UserAgent:   l.UserAgent,
		AccessPoint: l.AccessPoint,
	}, nil
}

// BatchID names a batch of records by what makes it unique and stable: its
// source vault, the sequence of its first record and that record's time. A
// delivery retried after a crash starts from the same first record, so it
// finds the same id (and archive name) and does not deliver twice.
func BatchID(source string, firstSeq uint64, firstTime time.Time) string {
	h := sha256.New()
	h.Write([]byte("wormvault access log batch v1\x00"))
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, firstSeq))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(firstTime.UnixNano())))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ObjectName is the key of the archive that delivers a batch:
// <prefix>YYYY/MM/DD/HH-MM-SS-<batch id>.jsonl, dated by the batch's first
// record in UTC, so keys sort by time and a date prefix selects a day.
func ObjectName(prefix string, firstTime time.Time, batchID string) string {
	return prefix + firstTime.UTC().Format("2006/01/02/15-04-05") + "-" + batchID + ".jsonl"
}

// MaxPrefixLen bounds a logging prefix so that every archive name it
// starts stays within the key length limit.
const MaxPrefixLen = 512

// ContentType is the content type of delivered archives.
const ContentType = "application/x-ndjson"

// Metadata keys of a delivered archive. The batch id and the last sequence
// it holds let a retried delivery recognise it.
const (
	MetaBatch    = "wormvault-access-log-batch"
	MetaSource   = "wormvault-access-log-source"
	MetaFirstSeq = "wormvault-access-log-first-seq"
	MetaLastSeq  = "wormvault-access-log-last-seq"
	MetaRecords  = "wormvault-access-log-records"
)
