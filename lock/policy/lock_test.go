package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
)

func TestOnlyDeny(t *testing.T) {
	p := mustParse(t, doc(
		`"sid": "D", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["*"]`,
		`"sid": "Grant", "effect": "ALLOW", "principals": ["alice"], "actions": ["*"], "resources": ["*"]`,
	))
	err := p.OnlyDeny()
	if !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), `statements[1] (sid "Grant"): a vault-lock policy may hold only DENY statements`) {
		t.Errorf("OnlyDeny = %v", err)
	}
	if err := p.CheckLockable("photos"); err == nil || err.Error() != p.OnlyDeny().Error() {
		t.Errorf("CheckLockable = %v, want the OnlyDeny error", err)
	}
	denyOnly := mustParse(t, doc(`"effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["*"]`))
	if err := denyOnly.OnlyDeny(); err != nil {
		t.Errorf("OnlyDeny = %v", err)
	}
}

func TestDeniesReadsUnconditionally(t *testing.T) {
	const reads = `"wormvault:GetArchive"`
	tests := []struct {
		name                                    string
		principals, actions, resources, condExp string
		want                                    bool
	}{
		{"everything", `"*"`, `"*"`, `"*"`, "", true},
		{"downloads of every archive", `"*"`, `"wormvault:DownloadArchive"`, `"vaults/photos/archives/*"`, "", true},
		{"GetArchive via pattern", `"*"`, `"wormvault:Get*"`, `"vaults/photos/archives/*"`, "", true},
		{"every vault", `"*"`, reads, `"vaults/*"`, "", true},
		{"vault name pattern", `"*"`, reads, `"vaults/pho*"`, "", true},
		{"every vault's archives", `"*"`, reads, `"vaults/*/archives/*"`, "", true},
		{"one of several resources", `"*"`, reads, `"vaults/other", "vaults/photos/archives/*"`, "", true},
		{"condition true", `"*"`, reads, `"*"`, "true", true},
		{"with a condition", `"*"`, reads, `"*"`, "!request.secure_transport", false},
		{"one principal", `"mallory"`, reads, `"*"`, "", false},
		{"not a read", `"*"`, `"wormvault:DeleteArchive", "wormvault:SetRetention"`, `"*"`, "", false},
		{"listing is not reading", `"*"`, `"wormvault:List*"`, `"*"`, "", false},
		{"some archives", `"*"`, reads, `"vaults/photos/archives/2026/*"`, "", false},
		{"the vault only", `"*"`, reads, `"vaults/photos"`, "", false},
		{"another vault", `"*"`, reads, `"vaults/other/archives/*"`, "", false},
		{"a vault with a longer name", `"*"`, reads, `"vaults/photos2*"`, "", false},
		{"pattern ending in a literal", `"*"`, reads, `"vaults/photos/archives/*.tif"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `"sid": "S", "effect": "DENY", "principals": [` + tt.principals + `], "actions": [` + tt.actions + `], "resources": [` + tt.resources + `]`
			if tt.condExp != "" {
				body += `, "condition": "` + strings.ReplaceAll(tt.condExp, `"`, `\"`) + `"`
			}
			p := mustParse(t, doc(`"sid": "Other", "effect": "DENY", "principals": ["*"], "actions": ["wormvault:DeleteArchive"], "resources": ["*"]`, body))
			if got := p.DeniesReadsUnconditionally("photos"); got != tt.want {
				t.Errorf("DeniesReadsUnconditionally = %v, want %v", got, tt.want)
			}
			err := p.CheckLockable("photos")
			if !tt.want && err != nil {
				t.Errorf("CheckLockable = %v", err)
			}
			if tt.want && (!errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), `statements[1] (sid "S"): a locked vault nobody can read is a destroyed vault`)) {
				t.Errorf("CheckLockable = %v", err)
			}
		})
	}
	allow := mustParse(t, doc(`"effect": "ALLOW", "principals": ["*"], "actions": ["*"], "resources": ["*"]`))
	if allow.DeniesReadsUnconditionally("photos") {
		t.Error("an ALLOW statement denies nothing")
	}
}
