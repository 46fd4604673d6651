package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/internal/atomicfile"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
)

// receiptFlagUsage documents --receipt on put.
const receiptFlagUsage = "write the server's signed receipt of the upload to `FILE` (JSON; check it with 'wormvault receipt verify')"

func newReceiptCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "receipt",
		Short: "Fetch the receipt signing key and verify signed receipts offline",
		Long: `Every upload, retention change and legal-hold change returns a receipt:
the server's Ed25519 signature over the canonical bytes of what it committed
(vault, key, version, size, SHA-256, retention, legal holds, commit time).
'put --receipt FILE' keeps it as JSON:

  {"payload": BASE64, "signature": BASE64, "key_id": HEX,
   "decoded": {"operation", "vault", "key", "version_id", "size_bytes",
               "sha256", "retention_mode", "retain_until", "legal_holds",
               "commit_time", "key_id"}}

"receipt key" fetches the server's public key (PEM); "receipt verify" checks
a receipt against it without contacting any server, so whoever holds the
receipt and the key can prove what was stored.`,
	}
	cmd.AddCommand(newReceiptKeyCmd(a), newReceiptVerifyCmd(a))
	return cmd
}

func newReceiptKeyCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Fetch the public key that signs receipts (PEM), to stdout or --out FILE",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context())
			if err != nil {
				return err
			}
			k, err := c.ReceiptKey(cmd.Context())
			if err != nil {
				return err
			}
			pemBytes, err := receipt.MarshalPublicKey(k.PublicKey)
			if err != nil {
				return err
			}
			if out != "" {
				if err := atomicfile.WriteFile(out, pemBytes, 0o644); err != nil {
					return fmt.Errorf("write %s: %w", out, err)
				}
			}
			resp := &wormvaultv1.GetReceiptKeyResponse{PublicKey: k.PublicKey, KeyId: k.KeyID, Algorithm: k.Algorithm}
			return a.output(resp, func(w io.Writer) error {
				if out != "" {
					_, err := fmt.Fprintf(w, "wrote the %s receipt key %s to %s\n", k.Algorithm, k.KeyID, out)
					return err
				}
				_, err := fmt.Fprintf(w, "# %s receipt key %s\n%s", k.Algorithm, k.KeyID, pemBytes)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the PEM public key to `FILE`")
	return cmd
}

func newReceiptVerifyCmd(a *app) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "verify RECEIPT.json --public-key FILE",
		Short: "Verify a receipt offline against the server's public key; exits 1 if it does not verify",
		Long: `Verify RECEIPT.json (as 'put --receipt' writes it) against the public key in
FILE (as 'receipt key --out' writes it; 32 raw key bytes in hex or base64 also
work). No server is contacted. On success it prints what the receipt states.
A receipt whose payload, signature or decoded section was altered, or that
another key signed, fails with exit code 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyFile == "" {
				return usagef("--public-key FILE is required (fetch it once with 'wormvault receipt key --out FILE')")
			}
			kb, err := os.ReadFile(keyFile)
			if err != nil {
				return err
			}
			pub, err := receipt.ParsePublicKey(kb)
			if err != nil {
				return fmt.Errorf("%s: %w", keyFile, err)
			}
			rb, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var j client.ReceiptJSON
			if err := json.Unmarshal(rb, &j); err != nil {
				return fmt.Errorf("%s is not a receipt (JSON with payload, signature, key_id): %w", args[0], err)
			}
			st, err := j.Verify(pub)
			if err != nil {
				return fmt.Errorf("receipt %s DOES NOT VERIFY: %w", args[0], err)
			}
			return a.printStatement(st)
		},
	}
	cmd.Flags().StringVar(&keyFile, "public-key", "", "the server's receipt public key `FILE` (PEM)")
	return cmd
}

// printStatement prints a verified statement: its decoded JSON with --json,
// else fields.
func (a *app) printStatement(st receipt.Statement) error {
	d := client.DecodeStatement(st)
	if a.json {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	retention := "none"
	if d.RetentionMode != "" {
		retention = strings.ToLower(d.RetentionMode) + " until " + d.RetainUntil
	}
	holds := "none"
	if len(d.LegalHolds) > 0 {
		holds = strings.Join(d.LegalHolds, ", ")
	}
	if _, err := fmt.Fprintf(a.stdout, "receipt OK: signed by %s key %s\n", receipt.Algorithm, d.KeyID); err != nil {
		return err
	}
	return writeFields(a.stdout, [][2]string{
		{"operation", d.Operation},
		{"vault", d.Vault},
		{"key", d.Key},
		{"version", d.VersionID},
		{"size", fmt.Sprintf("%d bytes", d.SizeBytes)},
		{"sha256", d.SHA256},
		{"retention", retention},
		{"legal holds", holds},
		{"committed", d.CommitTime},
	})
}

// writeReceipt writes an upload's receipt as indented ReceiptJSON.
func writeReceipt(path string, r client.Receipt) error {
	if r.IsZero() {
		return fmt.Errorf("the server returned no receipt for the upload (a server older than receipts?); %s not written", path)
	}
	b, err := json.MarshalIndent(r.JSON(), "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write receipt %s: %w", path, err)
	}
	return nil
}
