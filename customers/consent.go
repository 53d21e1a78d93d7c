package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// Consent decisions (PIPL Art. 14, 15).
const (
	ConsentGranted   = "granted"
	ConsentDeclined  = "declined"
	ConsentWithdrawn = "withdrawn"
)

// Consent sources: where a decision was made.
const (
	SourcePortal = "portal" // the customer's personal link
	SourceReply  = "reply"  // a reply such as "同意" to a consent request
	SourceStaff  = "staff"  // recorded by staff, e.g. from a phone call
)

// ConsentDecision is one decision to record for one purpose of a transfer.
type ConsentDecision struct {
	CustomerID string
	TransferID string
	Purpose    string
	Decision   string // granted | declined | withdrawn
	Source     string
	// NoticeHash is the SHA-256 of the notice text the customer was shown.
	NoticeHash string
	LinkID     string
	// Evidence that identifies the person; sealed with the customer's key.
	IP        string
	UserAgent string
	// Actor is who recorded it for the audit log: "customer:ID" or "staff:ID".
	Actor string
}

// ConsentEvent is one entry of the append-only consent ledger.
type ConsentEvent struct {
	ID         string
	CustomerID string
	TransferID string
	Purpose    string
	Decision   string
	Source     string
	NoticeHash string
	LinkID     string
	// IP and UserAgent are empty once the customer's key is destroyed.
	IP        string
	UserAgent string
	CreatedAt time.Time
}

type consentEvidence struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"ua,omitempty"`
}

func evidenceContext(eventID string) string { return eventID + "/consent" }

// RecordConsent writes each decision that changes the customer's state to
// the ledger and to consent_state, with an audit entry, in one
// transaction. A decision equal to the current state (a double submit, a
// second tab) and a withdrawal of what was not granted change nothing and
// return no event, so repeating a submit is harmless. The returned events
// are the ones written.
func (s *Store) RecordConsent(ctx context.Context, decisions []ConsentDecision) ([]ConsentEvent, error) {
	var written []ConsentEvent
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		written, err = s.RecordConsentTx(ctx, tx, decisions)
		return err
	})
	return written, err
}

// RecordConsentTx is RecordConsent inside the caller's transaction, for a
// change that must land with its consent (an opt-out, a ticket reply).
func (s *Store) RecordConsentTx(ctx context.Context, tx *database.Tx, decisions []ConsentDecision) ([]ConsentEvent, error) {
	var written []ConsentEvent
	found := map[string]*transfers.Transfer{}
	for _, d := range decisions {
		t, ok := found[d.TransferID]
		if !ok {
			var err error
			if t, err = s.transfers.FindTransferByIDTx(ctx, tx, d.TransferID); err != nil {
				return nil, err
			}
			found[d.TransferID] = t
		}
		if err := d.validate(t); err != nil {
			return nil, err
		}
		ev, changed, err := s.recordConsent(ctx, tx, d)
		if err != nil {
			return nil, err
		}
		if changed {
			written = append(written, ev)
		}
	}
	return written, nil
}

func (d *ConsentDecision) validate(t *transfers.Transfer) error {
	switch d.Decision {
	case ConsentGranted, ConsentDeclined, ConsentWithdrawn:
	default:
		return handover.Errorf(handover.EINVALID, "Decision must be granted, declined or withdrawn.")
	}
	if !slices.Contains(t.Purposes, d.Purpose) {
		return handover.Errorf(handover.EINVALID, "Purpose %q is not one of the transfer's purposes.", d.Purpose)
	}
	if d.Source == "" || d.Actor == "" {
		return handover.Errorf(handover.EINVALID, "A consent decision needs its source and actor.")
	}
	return nil
}

// recordConsent changes consent_state first: the row lock it takes (or
// the primary key, for a first decision) serialises two submits of the
// same decision, and only the one that changed the state writes an event.
func (s *Store) recordConsent(ctx context.Context, tx *database.Tx, d ConsentDecision) (ConsentEvent, bool, error) {
	ev := ConsentEvent{ID: ulid.Make().String(), CustomerID: d.CustomerID, TransferID: d.TransferID, Purpose: d.Purpose,
		Decision: d.Decision, Source: d.Source, NoticeHash: d.NoticeHash, LinkID: d.LinkID, IP: d.IP, UserAgent: d.UserAgent, CreatedAt: tx.Now}
	var query string
	if d.Decision == ConsentWithdrawn {
		query = `UPDATE consent_state SET decision = $4, event_id = $5, updated_at = $6
			WHERE customer_id = $1 AND transfer_id = $2 AND purpose = $3 AND decision = 'granted'`
	} else {
		query = `INSERT INTO consent_state (customer_id, transfer_id, purpose, decision, event_id, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (customer_id, transfer_id, purpose) DO UPDATE
			SET decision = excluded.decision, event_id = excluded.event_id, updated_at = excluded.updated_at
			WHERE consent_state.decision <> excluded.decision`
	}
	res, err := tx.ExecContext(ctx, query, d.CustomerID, d.TransferID, d.Purpose, d.Decision, ev.ID, tx.Now)
	if err != nil {
		return ev, false, fmt.Errorf("record consent state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ev, false, nil
	}
	keys, err := s.vault.CustomerKeys(ctx, tx, []string{d.CustomerID})
	if err != nil {
		return ev, false, err
	}
	dk := keys[d.CustomerID]
	if dk == nil {
		return ev, false, handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	}
	evidence, _ := json.Marshal(consentEvidence{IP: d.IP, UserAgent: d.UserAgent})
	_, err = tx.ExecContext(ctx, `INSERT INTO consent_events (id, customer_id, transfer_id, purpose, decision, source,
		notice_hash, link_id, evidence_enc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ev.ID, d.CustomerID, d.TransferID, d.Purpose, d.Decision, d.Source, d.NoticeHash, d.LinkID,
		dk.Seal(string(evidence), evidenceContext(ev.ID)), tx.Now)
	if err != nil {
		return ev, false, fmt.Errorf("record consent event: %w", err)
	}
	detail, _ := json.Marshal(map[string]string{"transfer": d.TransferID, "purpose": d.Purpose, "source": d.Source, "event": ev.ID})
	err = audit.Record(ctx, tx, audit.Entry{Actor: d.Actor, Action: "consent." + d.Decision, ObjectType: "customer", ObjectID: d.CustomerID, Detail: string(detail)})
	return ev, err == nil, err
}

// ConsentState returns the customer's current decision per purpose of the
// transfer; a purpose never decided is absent.
func (s *Store) ConsentState(ctx context.Context, customerID, transferID string) (map[string]string, error) {
	state := map[string]string{}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var purpose, decision string
		if err := row.Scan(&purpose, &decision); err != nil {
			return err
		}
		state[purpose] = decision
		return nil
	}, `SELECT purpose, decision FROM consent_state WHERE customer_id = $1 AND transfer_id = $2`, customerID, transferID)
	if err != nil {
		return nil, fmt.Errorf("consent state: %w", err)
	}
	return state, nil
}

// ConsentHistory returns the customer's ledger, oldest first, with the
// evidence opened while the customer's key exists.
func (s *Store) ConsentHistory(ctx context.Context, customerID string) ([]ConsentEvent, error) {
	var events []ConsentEvent
	var sealed []string
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var e ConsentEvent
		var enc string
		if err := row.Scan(&e.ID, &e.CustomerID, &e.TransferID, &e.Purpose, &e.Decision, &e.Source, &e.NoticeHash, &e.LinkID, &enc, &e.CreatedAt); err != nil {
			return err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		events, sealed = append(events, e), append(sealed, enc)
		return nil
	}, `SELECT id, customer_id, transfer_id, purpose, decision, source, notice_hash, link_id,
		evidence_enc, created_at FROM consent_events WHERE customer_id = $1 ORDER BY created_at, id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	keys, err := s.vault.CustomerKeys(ctx, s.db, []string{customerID})
	if err != nil {
		return nil, err
	}
	if dk := keys[customerID]; dk != nil {
		for i := range events {
			plain, err := dk.Open(sealed[i], evidenceContext(events[i].ID))
			if err != nil {
				return nil, fmt.Errorf("open consent evidence %s: %w", events[i].ID, err)
			}
			var ev consentEvidence
			_ = json.Unmarshal([]byte(plain), &ev)
			events[i].IP, events[i].UserAgent = ev.IP, ev.UserAgent
		}
	}
	return events, nil
}
