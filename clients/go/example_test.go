package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
)

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if _, err := c.CreateVault(ctx, "invoices",
		client.WithDefaultRetention(wormvault.DefaultRetention{Mode: wormvault.RetentionCompliance, Years: 7})); err != nil {
		log.Fatal(err)
	}
	a, err := c.Upload(ctx, "invoices", "2026/03/inv-0001.pdf", strings.NewReader("%PDF-1.7 ..."),
		client.WithContentType("application/pdf"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored version", a.GetVersionId())
}

func ExampleClient_Upload() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	f, err := os.Open("backup.tar")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// An *os.File is an io.Seeker, so the upload is retried if the server is
	// unavailable before every byte was sent.
	a, err := c.Upload(ctx, "backups", "2026-03-01/backup.tar", f,
		client.WithRetention(wormvault.RetentionGovernance, time.Now().AddDate(0, 0, 30)),
		client.WithMetadata(map[string]string{"host": "db1"}),
		client.WithProgress(func(n int64) { fmt.Fprintf(os.Stderr, "\r%d bytes", n) }))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %x\n", a.GetVersionId(), a.GetSha256())
}

func ExampleClient_Download() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	a, r, err := c.Download(ctx, "backups", "2026-03-01/backup.tar")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	// io.Copy returns an error wrapping wormvault.ErrDataLoss, not success,
	// if the bytes do not hash to a.Sha256.
	n, err := io.Copy(os.Stdout, r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%d of %d bytes\n", n, a.GetSizeBytes())
}

func ExampleClient_List() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	for a, err := range c.List(ctx, "backups", "2026-03", false) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.GetKey(), a.GetSizeBytes())
	}
}

func ExampleError() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	_, err = c.Delete(ctx, "invoices", "2026/03/inv-0001.pdf", "0195c3c0-0000-7000-8000-000000000000", false)
	switch {
	case errors.Is(err, wormvault.ErrRetentionCompliance):
		fmt.Println("protected by COMPLIANCE retention; nobody can delete it yet")
	case errors.Is(err, wormvault.ErrLegalHoldActive):
		fmt.Println("under legal hold")
	case err != nil:
		var e *client.Error
		if errors.As(err, &e) {
			fmt.Println(e.Code, e.Reason, e.Message)
		}
	}
}

func ExampleClient_InitiateVaultLock() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	policy := `{"statements":[{"sid":"no-young-deletes","effect":"DENY","principals":["*"],
	  "actions":["wormvault:DeleteArchive"],"resources":["vaults/invoices/archives/*"],
	  "condition":"archive.age_days < 365"}]}`
	lock, err := c.InitiateVaultLock(ctx, "invoices", policy)
	if err != nil {
		log.Fatal(err)
	}
	// The policy is enforced now; test it, then either abort or complete the
	// lock before lock.ExpireTime. Once complete it can never be removed.
	if err := c.CompleteVaultLock(ctx, "invoices", lock.GetLockId()); err != nil {
		log.Fatal(err)
	}
	if err := c.AbortVaultLock(ctx, "invoices"); errors.Is(err, wormvault.ErrVaultLocked) {
		fmt.Println("locked for good")
	}
}
