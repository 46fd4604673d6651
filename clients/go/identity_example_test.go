package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
)

func ExampleClient_CreateAccessKey() {
	ctx := context.Background()
	root, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken("AKEXAMPLE.secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()

	if _, err := root.CreatePrincipal(ctx, "backup-robot"); err != nil {
		log.Fatal(err)
	}
	// A new principal is denied everything until its identity policy allows it.
	policy := `{"statements":[{"sid":"list","effect":"ALLOW","principals":["backup-robot"],
	  "actions":["wormvault:ListVaults"],"resources":["*"]}]}`
	if err := root.SetPrincipalPolicy(ctx, "backup-robot", policy); err != nil {
		log.Fatal(err)
	}
	// The token is shown once: the server keeps only a hash of the secret.
	keyID, token, err := root.CreateAccessKey(ctx, "backup-robot")
	if err != nil {
		log.Fatal(err)
	}
	robot, err := client.Dial(ctx, "127.0.0.1:7420", client.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	defer robot.Close()
	for v, err := range robot.ListVaults(ctx) {
		if errors.Is(err, wormvault.ErrPermissionDenied) {
			fmt.Println("not allowed")
			break
		}
		fmt.Println(v.GetName())
	}
	if err := root.DeleteAccessKey(ctx, keyID); err != nil {
		log.Fatal(err)
	}
}
