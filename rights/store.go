// Package rights carries out the customers' rights under PIPL Art. 44–50:
// corrections (requested on the portal or by staff, confirmed by a code
// sent to a new phone or email, reviewed by staff), confirmation codes,
// my data (what is held about a customer, behind a code), erasure by
// crypto-shredding and refusals with their reasons. Each request reaches
// staff as a portal event that feedback files as a ticket.
package rights

import (
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Store keeps rights requests and decisions about the customers of a
// customers.Store.
type Store struct {
	db        *database.DB
	vault     *pii.Vault
	customers *customers.Store
	// RecordRights, when set, receives a portal inbound event for each
	// rights request (a correction becoming pending, a data-access grant)
	// so that feedback opens a ticket with an SLA; the inbox's Record.
	RecordRights channels.RecordFunc
}

// NewStore returns a Store for the customers of cs.
func NewStore(cs *customers.Store) *Store {
	return &Store{db: cs.DB(), vault: cs.Vault(), customers: cs}
}
