package rights_test

import (
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/customerstest"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/rights"
)

// customerStore names customers.Store apart from rights.Store in store.
type customerStore = customers.Store

// store is a customer store and the rights store over it: the tests read
// and seed customers and make rights requests through one value.
type store struct {
	*customerStore
	*rights.Store
}

// newStore opens a vault with a fresh master key on db.
func newStore(t testing.TB, db *database.DB) *store {
	t.Helper()
	return newStoreOn(db, piitest.Vault(t, db))
}

func newStoreOn(db *database.DB, vault *pii.Vault) *store {
	cs := customers.NewStore(db, vault)
	return &store{customerStore: cs, Store: rights.NewStore(cs)}
}

func newImporter(t testing.TB, s *store) *importer.Importer {
	t.Helper()
	return customerstest.NewImporter(t, s.customerStore)
}

func allCustomers(t testing.TB, s *store, f customers.Filter) []*customers.Customer {
	t.Helper()
	return customerstest.All(t, s.customerStore, f)
}

var (
	writeFile = customerstest.WriteFile
	csvText   = customerstest.CSV
	countRows = customerstest.CountRows
)
