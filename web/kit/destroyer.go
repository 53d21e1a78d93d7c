package kit

import (
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/lifecycle"
)

// Destroyer builds the destruction service; the data dir is where the
// embedded key store's files are, for the report's scan of them.
func Destroyer(cfg *config.Config, db *database.DB, cs *customers.Store) *lifecycle.Destroyer {
	dataDir := ""
	if cfg.Embedded() {
		dataDir = cfg.DataDir
	}
	return lifecycle.NewDestroyer(db, cs, dataDir)
}
