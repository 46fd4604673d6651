package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/vault"
)

// newRebuildCatalogCmd is `wormvault admin rebuild-catalog`: an offline
// command (the server must be stopped) that rebuilds meta/ from the
// journal and shards on the drives. The old meta/ is moved aside, never
// deleted.
func newRebuildCatalogCmd() *cobra.Command {
	cfg := server.DefaultConfig()
	var dataDir string
	cmd := &cobra.Command{
		Use:   "rebuild-catalog",
		Short: "Rebuild the catalog (meta/) from the drives; run with the server stopped",
		Long: `Rebuild the catalog from the drives' replicated journal, checking every
version against the metadata its shards carry. Run it with the server
stopped, with the same --data and --drive flags as serve. The current meta/
is renamed to meta.replaced-<time> and kept. The server also rebuilds on its
own when it starts and finds meta/ missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Vault.DataDir = dataDir
			if err := cfg.Vault.Validate(); err != nil {
				return usagef("%v", err)
			}
			aside, err := vault.MoveCatalogAside(dataDir)
			if err != nil {
				return err
			}
			if aside != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "moved the old catalog to %s\n", aside)
			}
			cfg.Vault.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			s, err := vault.Open(cmd.Context(), cfg.Vault)
			if err != nil {
				return err
			}
			defer s.Close()
			if rep := s.LastRebuild(); rep != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "rebuilt: %s\n", rep)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "the drives hold no data: started an empty catalog")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "wormvault-data", "data directory")
	f.StringVar(&cfg.Vault.MasterKeyFile, "master-key-file", "", "master key `FILE` (as given to serve; default: DATA/master.key)")
	f.StringArrayVar(&cfg.Vault.Drives, "drive", nil, "erasure drive directory (as given to serve)")
	f.IntVar(&cfg.Vault.DataShards, "data-shards", cfg.Vault.DataShards, "erasure data shards (as given to serve)")
	f.IntVar(&cfg.Vault.ParityShards, "parity-shards", cfg.Vault.ParityShards, "erasure parity shards (as given to serve)")
	return cmd
}
