// Package piitest gives tests a vault on their own database with a fresh
// master key.
package piitest

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
)

// Vault opens a vault on db under a newly generated master key.
func Vault(t testing.TB, db *database.DB) *pii.Vault {
	t.Helper()
	key, err := masterkey.Parse(masterkey.Generate())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := pii.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pii.OpenVault(context.Background(), db, kr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
