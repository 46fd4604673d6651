package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/clients/go/batch"
	"github.com/wormvault/wormvault/receipt"
)

// batchTick is how often the terminal progress bar is redrawn.
const batchTick = 200 * time.Millisecond

func newBatchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "Upload a tree or a manifest of files as one resumable batch, with a receipt",
	}
	cmd.AddCommand(newBatchPutCmd(a), newBatchVerifyCmd(a))
	return cmd
}

func newBatchPutCmd(a *app) *cobra.Command {
	var (
		cfg                       batch.Config
		manifest, prefix, receipt string
		progressEvery             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "put --vault VAULT (DIR | --manifest FILE.csv)",
		Short: "Upload every file under DIR, or listed in a CSV manifest, and write a receipt",
		Long: `Upload every regular file under DIR (key: --prefix + its slash-separated path
relative to DIR), or every file a CSV manifest lists, into VAULT, --parallel
at a time.

The manifest's header row names its columns: path (required), key, retention,
legal_hold, content_type. Empty cells take the flags' values; relative paths
are relative to the manifest's directory. A retention is MODE:PERIOD
(compliance:7y), MODE:RFC3339-TIME, or "default" for the vault's default;
periods count from when the batch first started, also across --resume.

The receipt (--receipt, JSON, with a CSV beside it) lists per file the key,
version id, size, SHA-256, retention, legal hold and commit time, and a
summary carrying the receipt's own SHA-256; check it with 'batch verify'.
Committed files are journaled in RECEIPT.journal: after an interruption,
run the same command with --resume to finish without uploading any file
twice. Transient failures are retried; a file that cannot be read stops the
batch (exit 1, with the receipt of what was committed).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Vault == "" {
				return usagef("--vault is required")
			}
			if (len(args) == 1) == (manifest != "") {
				return usagef("give either a directory or --manifest FILE.csv")
			}
			if cfg.Parallel < 1 || cfg.Parallel > 256 {
				return usagef("--parallel %d: want 1 to 256", cfg.Parallel)
			}
			if cfg.Retention != "" {
				if _, _, err := batch.ParseRetention(cfg.Retention, time.Now()); err != nil {
					return usagef("--retention: %w", err)
				}
			}
			cfg.ReceiptPath = firstNonEmpty(receipt, cfg.Vault+"-batch-receipt.json")
			items, err := batchItems(args, manifest, prefix, cfg.ReceiptPath)
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			b, err := batch.New(c, items, cfg)
			if err != nil {
				return usagef("%w", err)
			}
			stop := a.reportBatchProgress(b, progressEvery)
			res, err := b.Run(cmd.Context())
			stop()
			if errors.Is(err, batch.ErrExists) {
				return usagef("%w", err)
			}
			if res == nil {
				return err
			}
			if perr := a.printBatchSummary(res.Receipt, cfg.ReceiptPath); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Vault, "vault", "", "the vault to upload into (required)")
	f.StringVar(&manifest, "manifest", "", "upload the files listed in this CSV `FILE` instead of a directory")
	f.StringVar(&prefix, "prefix", "", "prepend `P` to every key made from a path")
	f.StringVar(&cfg.Retention, "retention", "", "retention of every file, `MODE:PERIOD` (compliance:7y) or MODE:RFC3339-TIME; default the vault's")
	f.BoolVar(&cfg.LegalHold, "legal-hold", false, "place the default legal hold on every file")
	f.StringVar(&cfg.ContentType, "content-type", "", "content type of every file the manifest does not type")
	f.IntVar(&cfg.Parallel, "parallel", batch.DefaultParallel, "upload `N` files at a time")
	f.StringVar(&receipt, "receipt", "", "write the receipt to `PATH` (JSON; CSV and journal beside it); default VAULT-batch-receipt.json")
	f.BoolVar(&cfg.Resume, "resume", false, "continue the batch journaled beside --receipt, skipping what it committed")
	f.IntVar(&cfg.MaxAttempts, "max-attempts", batch.DefaultMaxAttempts, "attempts per file against transient failures")
	f.IntVar(&cfg.MaxFailures, "max-failures", batch.DefaultMaxFailures, "stop after this many files failed")
	f.DurationVar(&progressEvery, "progress-every", 10*time.Second, "when stderr is not a terminal, print a progress line this often (0: never)")
	return cmd
}

// batchItems lists the batch's files from a directory or a manifest, never
// including the batch's own receipt files.
func batchItems(args []string, manifest, prefix, receipt string) ([]batch.Item, error) {
	if manifest == "" {
		fi, err := os.Stat(args[0])
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, usagef("%s is not a directory (use --manifest for a list of files)", args[0])
		}
		return batch.Walk(args[0], prefix, receipt, batch.CSVPath(receipt), batch.JournalPath(receipt))
	}
	f, err := os.Open(manifest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	items, err := batch.ParseManifest(f, filepath.Dir(manifest), prefix)
	if err != nil {
		return nil, usagef("%s: %w", manifest, err)
	}
	return items, nil
}

// reportBatchProgress shows the batch's progress on stderr until the
// returned function is called: one overall bar (files, bytes, rate, ETA) on
// a terminal, else a plain line every interval.
func (a *app) reportBatchProgress(b *batch.Batch, every time.Duration) (stop func()) {
	tty := isTerminal(a.stderr)
	if !tty && every <= 0 {
		return func() {}
	}
	tick := every
	if tty {
		tick = batchTick
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		var bar *progressbar.ProgressBar
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if bar != nil {
					bar.Finish()
					fmt.Fprint(a.stderr, "\r")
				}
				return
			case <-t.C:
			}
			p := b.Progress()
			if p.TotalFiles == 0 {
				continue // still listing the files
			}
			if !tty {
				fmt.Fprintln(a.stderr, batchProgressLine(p, time.Since(start)))
				continue
			}
			if bar == nil {
				bar = progressbar.NewOptions64(p.TotalBytes,
					progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionShowBytes(true),
					progressbar.OptionShowCount(),
					progressbar.OptionUseIECUnits(true),
					progressbar.OptionSetWidth(30),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(),
				)
			}
			bar.Describe(fmt.Sprintf("batch %d/%d files", p.Files, p.TotalFiles) + failedSuffix(p.Failed))
			bar.Set64(p.Bytes)
		}
	})
	return func() { cancel(); wg.Wait() }
}

// batchProgressLine is the plain progress line: files, bytes, the rate of
// this run's uploads and the time left at that rate.
func batchProgressLine(p batch.Progress, elapsed time.Duration) string {
	rate := float64(p.Transferred) / max(elapsed.Seconds(), 1e-3)
	eta := "-"
	if rate > 0 && p.TotalBytes >= p.Bytes {
		eta = time.Duration(float64(p.TotalBytes-p.Bytes) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("batch: %d/%d files, %s/%s, %s/s, ETA %s%s",
		p.Files, p.TotalFiles, humanBytes(p.Bytes), humanBytes(p.TotalBytes), humanBytes(int64(rate)), eta, failedSuffix(p.Failed))
}

func failedSuffix(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d failed", n)
}

// maxFailuresShown bounds the failures printed; the receipt has them all.
const maxFailuresShown = 10

func (a *app) printBatchSummary(r *batch.Receipt, path string) error {
	s := r.Summary
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	w := a.stdout
	fmt.Fprintf(w, "batch put: %d files (%s) in vault %s; this run: %d uploaded, %d already journaled, %d adopted, %d failed in %s\n",
		s.Files, humanBytes(s.Bytes), r.Vault, s.Uploaded, s.Resumed, s.Adopted, len(s.Failures), s.Duration)
	for i, f := range s.Failures {
		if i == maxFailuresShown {
			fmt.Fprintf(w, "  ... and %d more failures (see the receipt)\n", len(s.Failures)-i)
			break
		}
		fmt.Fprintf(w, "  FAILED %s -> %s: %s\n", f.Path, f.Key, f.Error)
	}
	if s.Stopped != "" {
		fmt.Fprintf(w, "stopped: %s\n", s.Stopped)
	}
	if !s.Complete {
		fmt.Fprintln(w, "incomplete: fix the cause and run the same command with --resume")
	}
	_, err := fmt.Fprintf(w, "receipt %s (sha256 %s), csv %s\n", path, s.ReceiptSHA256, batch.CSVPath(path))
	return err
}

func newBatchVerifyCmd(a *app) *cobra.Command {
	var (
		deep      bool
		parallel  int
		publicKey string
	)
	cmd := &cobra.Command{
		Use:   "verify RECEIPT",
		Short: "Check a batch receipt's own hash and every version it lists against the vault",
		Long: `Check that RECEIPT's bytes (and its CSV's) hash to the receipt_sha256
(csv_sha256) it carries, then re-read from the server every version it lists
and compare size, SHA-256, retention, legal hold and commit time; --deep also
downloads each version and hashes its bytes. Each server receipt the batch
receipt carries must verify with the server's receipt key (--public-key, or
the key the server publishes) and state what its row states. Exit 1 on any
mismatch.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if parallel < 1 || parallel > 256 {
				return usagef("--parallel %d: want 1 to 256", parallel)
			}
			path := args[0]
			r, hashErr, err := batch.ReadReceipt(path)
			if err != nil {
				if hashErr != nil {
					return fmt.Errorf("%w; %w", hashErr, err)
				}
				return err
			}
			csvErr := batch.VerifyCSV(path, r)
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			key, keyID, err := a.receiptKey(cmd, c, publicKey)
			if err != nil {
				return err
			}
			ms, err := batch.Verify(cmd.Context(), c, r, batch.VerifyOptions{Deep: deep, Parallel: parallel, ReceiptKey: key})
			if err != nil {
				return err
			}
			return a.printVerify(r, path, deep, keyID, hashErr, csvErr, ms)
		},
	}
	cmd.Flags().BoolVar(&deep, "deep", false, "also download every version and hash its bytes")
	cmd.Flags().StringVar(&publicKey, "public-key", "", "check the server receipts with the public key in `FILE` ('receipt key --out'), not the one the server sends now")
	cmd.Flags().IntVar(&parallel, "parallel", batch.DefaultParallel, "check `N` versions at a time")
	return cmd
}

// receiptKey is the key that checks the server receipts in a batch
// receipt: the one in file, else the one the server publishes now.
func (a *app) receiptKey(cmd *cobra.Command, c *client.Client, file string) (ed25519.PublicKey, string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, "", err
		}
		pub, err := receipt.ParsePublicKey(b)
		if err != nil {
			return nil, "", usagef("--public-key %s: %w", file, err)
		}
		return pub, receipt.KeyID(pub), nil
	}
	k, err := c.ReceiptKey(cmd.Context())
	if err != nil {
		return nil, "", fmt.Errorf("fetching the server's receipt key (or give --public-key): %w", err)
	}
	return k.PublicKey, k.KeyID, nil
}

// verifyReport is verify's --json output.
type verifyReport struct {
	Receipt       string           `json:"receipt"`
	ReceiptSHA256 string           `json:"receipt_sha256"`
	HashOK        bool             `json:"hash_ok"`
	HashError     string           `json:"hash_error,omitempty"`
	CSVOK         bool             `json:"csv_ok"`
	CSVError      string           `json:"csv_error,omitempty"`
	Files         int              `json:"files"`
	ServerSigned  int              `json:"server_receipts"`
	ReceiptKeyID  string           `json:"receipt_key_id"`
	Deep          bool             `json:"deep"`
	Complete      bool             `json:"batch_complete"`
	Mismatches    []batch.Mismatch `json:"mismatches"`
}

func (a *app) printVerify(r *batch.Receipt, path string, deep bool, keyID string, hashErr, csvErr error, ms []batch.Mismatch) error {
	rep := verifyReport{Receipt: path, ReceiptSHA256: r.Summary.ReceiptSHA256, HashOK: hashErr == nil, CSVOK: csvErr == nil,
		Files: len(r.Files), ReceiptKeyID: keyID, Deep: deep, Complete: r.Summary.Complete, Mismatches: ms}
	for _, f := range r.Files {
		if f.ServerReceipt != nil {
			rep.ServerSigned++
		}
	}
	if hashErr != nil {
		rep.HashError = hashErr.Error()
	}
	if csvErr != nil {
		rep.CSVError = csvErr.Error()
	}
	if rep.Mismatches == nil {
		rep.Mismatches = []batch.Mismatch{}
	}
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		w := a.stdout
		fmt.Fprintf(w, "receipt %s: %s\n", path, okOr(hashErr, "sha256 "+r.Summary.ReceiptSHA256+" matches its bytes"))
		fmt.Fprintf(w, "csv %s: %s\n", batch.CSVPath(path), okOr(csvErr, "matches csv_sha256"))
		for _, m := range ms {
			fmt.Fprintf(w, "MISMATCH %s\n", m)
		}
		how := "metadata"
		if deep {
			how = "metadata and data"
		}
		fmt.Fprintf(w, "checked %d versions (%s) in vault %s, %d server receipts with key %s: %d mismatches\n",
			len(r.Files), how, r.Vault, rep.ServerSigned, keyID, len(ms))
		if !r.Summary.Complete {
			fmt.Fprintf(w, "note: the receipt records an incomplete batch (%d failures)\n", len(r.Summary.Failures))
		}
	}
	var errs []error
	if hashErr != nil {
		errs = append(errs, hashErr)
	}
	if csvErr != nil {
		errs = append(errs, csvErr)
	}
	if len(ms) > 0 {
		errs = append(errs, fmt.Errorf("batch verify: %d mismatches between the receipt and the vault", len(ms)))
	}
	return errors.Join(errs...)
}

func okOr(err error, ok string) string {
	if err != nil {
		return "ALTERED: " + err.Error()
	}
	return "ok, " + ok
}
