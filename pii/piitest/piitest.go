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
	_, v := VaultWithKey(t, db)
	return v
}

// VaultWithKey is Vault, also returning the master key (as
// HANDOVER_MASTER_KEY takes it) for processes the test starts on db.
func VaultWithKey(t testing.TB, db *database.DB) (string, *pii.Vault) {
	t.Helper()
	masterKey := masterkey.Generate()
	key, err := masterkey.Parse(masterKey)
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
	return masterKey, v
}
