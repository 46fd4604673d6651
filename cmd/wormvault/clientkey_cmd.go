package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault/sse"
)

// clientKeyFlagUsage documents --client-key on put and get.
const clientKeyFlagUsage = "client-side encryption key `FILE` (from 'wormvault client-key generate'): the server only ever sees ciphertext"

func newClientKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client-key",
		Short: "Create and identify keys for client-side encryption (put/get --client-key)",
		Long: `A client key encrypts archives on this machine before upload (put
--client-key FILE) and decrypts them after download (get --client-key FILE):
the server stores and serves only ciphertext, so it cannot read them, and
neither can anyone who holds the server's data and master key. Without the
key file the archives are lost: back it up, apart from the server.`,
	}
	cmd.AddCommand(newClientKeyGenerateCmd(a), newClientKeyIDCmd(a))
	return cmd
}

func newClientKeyGenerateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "generate FILE",
		Short: "Write a fresh client key to a new file (mode 0600); never replaces a file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := client.CreateClientKeyFile(args[0])
			if err != nil {
				return err
			}
			return a.printClientKey(args[0], k, "wrote a new client key to %s, key id %s; back it up apart from the server\n")
		},
	}
}

func newClientKeyIDCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "id FILE",
		Short: "Print a client key's id, as archives encrypted under it record it (x-wormvault-cse-key-id)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := client.LoadClientKey(args[0])
			if err != nil {
				return err
			}
			return a.printClientKey(args[0], k, "%s: key id %s\n")
		},
	}
}

// printClientKey prints a key file's path and key id, as JSON with --json.
func (a *app) printClientKey(path string, k *client.ClientKey, human string) error {
	if a.json {
		b, err := json.Marshal(struct {
			File  string `json:"file"`
			KeyID string `json:"keyId"`
		}{path, k.ID()})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(a.stdout, human, path, k.ID())
	return err
}

// loadClientKeyFlag loads --client-key FILE; nil when the flag is empty.
func loadClientKeyFlag(path string) (*client.ClientKey, error) {
	if path == "" {
		return nil, nil
	}
	return client.LoadClientKey(path)
}

// uploadSize is what put will send for size plaintext bytes, for the
// progress bar: the ciphertext size under a client key. -1 stays unknown.
func uploadSize(size int64, k *client.ClientKey) int64 {
	if k == nil || size < 0 {
		return size
	}
	return sse.CiphertextSize(size)
}

// downloadSize is the size of what get writes: the plaintext when it
// decrypts, else the stored bytes. It warns on stderr when the archive is
// client-side encrypted and get was given no key: the bytes written are
// then the ciphertext.
func (a *app) downloadSize(ar *wormvaultv1.Archive, k *client.ClientKey) int64 {
	if k == nil {
		if client.IsClientSideEncrypted(ar) {
			fmt.Fprintf(a.stderr, "wormvault: warning: %s/%s is client-side encrypted (key id %s) and no --client-key was given: writing the ciphertext\n",
				ar.GetVault(), ar.GetKey(), ar.GetMetadata()[client.MetadataCSEKeyID])
		}
		return ar.GetSizeBytes()
	}
	n, err := client.PlaintextSize(ar)
	if err != nil {
		return -1 // the download itself reports the damage
	}
	return n
}
