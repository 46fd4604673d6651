package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	client "github.com/wormvault/wormvault/clients/go"
)

// Defaults of the global flags.
const (
	defaultServer   = "127.0.0.1:7420"
	credentialsFile = "wormvault-data/root.credentials"
	envServer       = "WORMVAULT_SERVER"
	envToken        = "WORMVAULT_TOKEN"
	envMFA          = "WORMVAULT_MFA"
)

// app is the state one command line runs with: its streams, its global
// flags and the client, dialled on first use.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	server string
	token  string
	tlsCA  string
	mfa    string
	json   bool

	client *client.Client
}

func (a *app) addGlobalFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&a.server, "server", "", "server address HOST:PORT (env "+envServer+", default "+defaultServer+")")
	f.StringVar(&a.token, "token", "", "access key KEYID.SECRET (env "+envToken+", default read from ./"+credentialsFile+")")
	f.BoolVar(&a.json, "json", false, "print protojson: one document per command, JSON lines for listings")
	f.StringVar(&a.tlsCA, "tls-ca", "", "dial with TLS, trusting the CA certificates in this PEM `FILE`")
	f.StringVar(&a.mfa, "mfa", "", "prove MFA: `\"DEVICE CODE\"`, a current code of a confirmed device (env "+envMFA+"); each code works once")
}

// dial returns the client, connecting on first use.
func (a *app) dial(ctx context.Context) (*client.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	server := firstNonEmpty(a.server, a.getenv(envServer), defaultServer)
	token, err := a.resolveToken()
	if err != nil {
		return nil, err
	}
	var opts []client.Option
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	if mfa := firstNonEmpty(a.mfa, a.getenv(envMFA)); mfa != "" {
		f := strings.Fields(mfa)
		if len(f) != 2 {
			return nil, usagef("--mfa / %s %q: want \"DEVICE CODE\", such as \"phone 123456\"", envMFA, mfa)
		}
		opts = append(opts, client.WithMFA(f[0], f[1]))
	}
	if a.tlsCA != "" {
		cfg, err := tlsConfig(a.tlsCA)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithTLS(cfg))
	} else {
		opts = append(opts, client.WithInsecure())
	}
	c, err := client.Dial(ctx, server, opts...)
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

func (a *app) close() {
	if a.client != nil {
		a.client.Close()
	}
}

// resolveToken picks the token: --token, else $WORMVAULT_TOKEN, else the
// local root credentials file if there is one, else none.
func (a *app) resolveToken() (string, error) {
	if t := firstNonEmpty(a.token, a.getenv(envToken)); t != "" {
		return t, nil
	}
	return readCredentialsFile(credentialsFile)
}

// readCredentialsFile reads the token from path; a missing file means no
// token.
func readCredentialsFile(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading credentials: %w", err)
	}
	defer f.Close()
	tok, err := parseCredentials(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// parseCredentials reads a credentials file: lines starting with '#' are
// comments, and the first other non-empty line is the token KEYID.SECRET.
func parseCredentials(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return "", fmt.Errorf("token line %q must be a single KEYID.SECRET word", redact(line))
		}
		return line, nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no token found")
}

// redact keeps the key id of a token and hides the rest.
func redact(s string) string {
	if id, _, ok := strings.Cut(s, "."); ok {
		return id + ".REDACTED"
	}
	return "REDACTED"
}

func tlsConfig(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usagef("--tls-ca %s: no PEM certificates found", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
