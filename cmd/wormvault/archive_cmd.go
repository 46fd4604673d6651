package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

func (a *app) printArchive(ar *wormvaultv1.Archive) error {
	return a.output(ar, func(w io.Writer) error {
		return writeFields(w, append(archiveFields(ar), encryptionFields(ar.GetEncryption())...))
	})
}

func newPutCmd(a *app) *cobra.Command {
	var (
		retention, retainUntil, contentType, sha string
		kmsKey                                   string
		legalHold                                bool
		meta                                     []string
	)
	var clientKeyFile string // --client-key
	var receiptFile string   // --receipt
	var sseCKeyFile string   // --sse-c-key
	cmd := &cobra.Command{
		Use:   "put VAULT KEY FILE|-",
		Short: "Upload a file (or stdin) as a new version of an archive",
		Long: `Upload a file (or stdin, with -) as a new immutable version of VAULT/KEY.

Retention: --retention MODE:PERIOD (retain until now + period, e.g.
compliance:7y), or --retention MODE --retain-until RFC3339. Without either the
vault's default retention applies.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			vault, key, path := args[0], args[1], args[2]
			var opts []client.UploadOption
			r, set, err := parseRetention(retention, "", retainUntil, time.Now())
			if err != nil {
				return err
			}
			if set {
				opts = append(opts, client.WithRetention(r.Mode, r.RetainUntil))
			}
			md, err := parseMeta(meta)
			if err != nil {
				return err
			}
			if md != nil {
				opts = append(opts, client.WithMetadata(md))
			}
			if contentType != "" {
				opts = append(opts, client.WithContentType(contentType))
			}
			if legalHold {
				opts = append(opts, client.WithLegalHold())
			}
			if kmsKey != "" {
				opts = append(opts, client.WithKMSKey(kmsKey))
			}
			if sha != "" {
				sum, err := hex.DecodeString(sha)
				if err != nil || len(sum) != 32 {
					return usagef("--sha256 %q: want 64 hex digits", sha)
				}
				opts = append(opts, client.WithExpectedSHA256(sum))
			}
			ck, err := loadClientKeyFlag(clientKeyFile)
			if err != nil {
				return err
			}
			if ck != nil {
				opts = append(opts, client.WithClientKey(ck))
			}
			if sseCKeyFile != "" {
				if kmsKey != "" {
					return usagef("--sse-c-key and --kms-key choose different encryptions: give one")
				}
				k, err := client.LoadCustomerKey(sseCKeyFile)
				if err != nil {
					return err
				}
				opts = append(opts, client.WithCustomerKey(k))
			}

			in, size := a.stdin, int64(-1)
			if path != "-" {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				defer f.Close()
				if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
					size = fi.Size()
				}
				in = f
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			p := a.newProgress(uploadSize(size, ck), "put "+key)
			opts = append(opts, client.WithProgress(p.set))
			var rcpt client.Receipt
			if receiptFile != "" {
				opts = append(opts, client.WithReceipt(&rcpt))
			}
			ar, err := c.Upload(cmd.Context(), vault, key, in, opts...)
			p.done()
			if err != nil {
				return err
			}
			if receiptFile != "" {
				if err := writeReceipt(receiptFile, rcpt); err != nil {
					return err
				}
			}
			return a.printArchive(ar)
		},
	}
	f := cmd.Flags()
	f.StringVar(&retention, "retention", "", "explicit retention, `MODE:PERIOD` (governance:30d, compliance:7y) or MODE with --retain-until")
	f.StringVar(&retainUntil, "retain-until", "", "retain-until `TIME` in RFC 3339, with --retention MODE")
	f.BoolVar(&legalHold, "legal-hold", false, "place the default legal hold")
	f.StringVar(&kmsKey, "kms-key", "", "encrypt under the server's KMS key `NAME` instead of the vault's default encryption")
	f.StringVar(&contentType, "content-type", "", "content type of the archive")
	f.StringArrayVar(&meta, "meta", nil, "user metadata `KEY=VALUE` (repeatable)")
	f.StringVar(&sha, "sha256", "", "expected SHA-256 in `HEX`; the server stores nothing if the bytes differ")
	f.StringVar(&clientKeyFile, "client-key", "", clientKeyFlagUsage)
	f.StringVar(&receiptFile, "receipt", "", receiptFlagUsage)
	f.StringVar(&sseCKeyFile, "sse-c-key", "", sseCKeyFlagUsage)
	return cmd
}

func newGetCmd(a *app) *cobra.Command {
	var (
		version, output string
		offset, length  int64
	)
	var clientKeyFile string // --client-key
	var sseCKeyFile string   // --sse-c-key
	cmd := &cobra.Command{
		Use:   "get VAULT KEY",
		Short: "Download an archive to stdout or a file",
		Long: `Download VAULT/KEY (the latest version unless --version) to stdout, or with
-o FILE to a temporary file beside FILE that is renamed into place only once
every byte has arrived and, for a full read, its SHA-256 has been verified.

With --client-key FILE it decrypts an archive uploaded with put --client-key
(--offset and --length then count plaintext bytes, and only the encrypted
packages they touch are downloaded). Without it such an archive comes back
as the ciphertext the server holds, with a warning on stderr.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			vault, key := args[0], args[1]
			if offset < 0 || length < 0 {
				return usagef("--offset and --length must not be negative")
			}
			opts := []client.DownloadOption{client.WithVersion(version)}
			if offset > 0 || length > 0 {
				opts = append(opts, client.WithRange(offset, length))
			}
			ck, err := loadClientKeyFlag(clientKeyFile)
			if err != nil {
				return err
			}
			if ck != nil {
				opts = append(opts, client.DecryptWithClientKey(ck))
			}
			if sseCKeyFile != "" {
				k, err := client.LoadCustomerKey(sseCKeyFile)
				if err != nil {
					return err
				}
				opts = append(opts, client.ReadWithCustomerKey(k))
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			ar, rc, err := c.Download(cmd.Context(), vault, key, opts...)
			if err != nil {
				return err
			}
			defer rc.Close()
			total := max(a.downloadSize(ar, ck)-offset, 0)
			if length > 0 {
				total = min(total, length)
			}
			p := a.newProgress(total, "get "+key)
			src := &progressReader{r: rc, p: p}
			if output == "" || output == "-" {
				_, err := io.Copy(a.stdout, src)
				p.done()
				return err
			}
			err = writeFileAtomic(output, src)
			p.done()
			if err != nil {
				return err
			}
			return a.output(ar, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "wrote %s (%s) version %s to %s\n", key, humanBytes(src.n), ar.GetVersionId(), output)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "version", "", "version id (default the latest)")
	f.StringVarP(&output, "output", "o", "", "write to `FILE` instead of stdout (- for stdout)")
	f.Int64Var(&offset, "offset", 0, "first byte to read")
	f.Int64Var(&length, "length", 0, "number of bytes to read (0 to the end)")
	f.StringVar(&clientKeyFile, "client-key", "", clientKeyFlagUsage)
	f.StringVar(&sseCKeyFile, "sse-c-key", "", sseCKeyFlagUsage)
	return cmd
}

// writeFileAtomic copies r to a temporary file beside path and renames it to
// path only when the copy (and its verification) succeeded.
func writeFileAtomic(path string, r io.Reader) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func newLsCmd(a *app) *cobra.Command {
	var versions bool
	cmd := &cobra.Command{
		Use:     "ls VAULT [PREFIX]",
		Aliases: []string{"list"},
		Short:   "List archives in a vault",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 2 {
				prefix = args[1]
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			tw := newTable(a.stdout)
			if !a.json {
				if versions {
					row(tw, "KEY", "VERSION", "LATEST", "SIZE", "CREATED", "RETENTION", "HOLD")
				} else {
					row(tw, "KEY", "SIZE", "CREATED", "RETENTION", "HOLD")
				}
			}
			for ar, err := range c.List(cmd.Context(), args[0], prefix, versions) {
				if err != nil {
					return err
				}
				if a.json {
					if err := writeJSONLine(a.stdout, ar); err != nil {
						return err
					}
					continue
				}
				size := humanBytes(ar.GetSizeBytes())
				if ar.GetDeleteMarker() {
					size = "(deleted)"
				}
				ret, hold := formatRetention(ar.GetRetention()), yesNo(ar.GetLegalHold())
				if versions {
					row(tw, ar.GetKey(), ar.GetVersionId(), yesNo(ar.GetIsLatest()), size, formatTime(ar.GetCreateTime()), ret, hold)
				} else {
					row(tw, ar.GetKey(), size, formatTime(ar.GetCreateTime()), ret, hold)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&versions, "versions", false, "list every version and delete marker, newest first per key")
	return cmd
}

func newStatCmd(a *app) *cobra.Command {
	var version, sseCKeyFile string
	cmd := &cobra.Command{
		Use:   "stat VAULT KEY",
		Short: "Show one version's metadata",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			var ar *wormvaultv1.Archive
			if sseCKeyFile != "" {
				k, kerr := client.LoadCustomerKey(sseCKeyFile)
				if kerr != nil {
					return kerr
				}
				ar, err = c.StatWithCustomerKey(cmd.Context(), args[0], args[1], version, k)
			} else {
				ar, err = c.Stat(cmd.Context(), args[0], args[1], version)
			}
			if err != nil {
				return err
			}
			return a.printArchive(ar)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version id (default the latest)")
	cmd.Flags().StringVar(&sseCKeyFile, "sse-c-key", "", sseCKeyFlagUsage)
	return cmd
}

// sseCKeyFlagUsage describes --sse-c-key of put, get and stat.
const sseCKeyFlagUsage = "customer-provided encryption key `FILE` (SSE-C; 64 hex digits or 32 raw bytes, mode 0600, as 'wormvault client-key generate' writes): the server encrypts with it and keeps none of it; needs --tls-ca (TLS)"

func newRmCmd(a *app) *cobra.Command {
	var (
		version string
		bypass  bool
	)
	cmd := &cobra.Command{
		Use:   "rm VAULT KEY",
		Short: "Add a delete marker, or with --version permanently delete that version",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			vault, key := args[0], args[1]
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.Delete(cmd.Context(), vault, key, version, bypass)
			if err != nil {
				return err
			}
			return a.output(resp, func(w io.Writer) error {
				if resp.GetDeleteMarker() {
					_, err = fmt.Fprintf(w, "added delete marker %s to %s/%s\n", resp.GetVersionId(), vault, key)
				} else {
					_, err = fmt.Fprintf(w, "permanently deleted version %s of %s/%s\n", resp.GetVersionId(), vault, key)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "permanently delete this version id")
	cmd.Flags().BoolVar(&bypass, "bypass-governance", false, "bypass GOVERNANCE retention (needs the permission)")
	return cmd
}
