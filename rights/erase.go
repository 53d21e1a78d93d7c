package rights

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Erasure decisions (PIPL Art. 47, 50).
const (
	ErasureDone    = "erased"
	ErasureRefused = "refused"
)

// ErasureDecision records an erasure carried out or refused, with its
// reason.
type ErasureDecision struct {
	ID        string    `json:"id"`
	Decision  string    `json:"decision"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	CreatedAt time.Time `json:"created_at"`
}

// EraseCustomer erases a customer on request (Art. 47) by crypto-shredding:
// their data key is destroyed, so every sealed value (personal fields,
// consent evidence, correction proposals, matched inbound messages and
// devbox records, in this database and in every backup) is unreadable;
// their inbound events and devbox records are deleted; the sealed column and blind indexes are cleared,
// the status becomes erased, open correction requests are cancelled, codes
// and grants deleted, and unsent deliveries suppressed. Consent decisions
// and the audit log stay, as the law requires. It reports whether this
// call erased the customer (false: already erased).
func (s *Store) EraseCustomer(ctx context.Context, id, actor, reason string) (bool, error) {
	reason, err := decisionReason(reason, "erase a customer")
	if err != nil {
		return false, err
	}
	erased := false
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		// Their addresses' blind indexes find the messages never matched
		// to them, before the indexes are cleared.
		var phoneIdx, emailIdx, openidIdx sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT phone_idx, email_idx, openid_idx FROM customers WHERE id = $1`, id).Scan(&phoneIdx, &emailIdx, &openidIdx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("erase customer: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE customers SET status = $1, pii_enc = '', phone_idx = NULL, email_idx = NULL, openid_idx = NULL,
			external_ref = '', tags = '', time_zone = '', updated_at = $2 WHERE id = $3 AND status <> $1`, customers.StatusErased, tx.Now, id)
		if err != nil {
			return fmt.Errorf("erase customer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var status string
			return database.MapError(tx.QueryRowContext(ctx, `SELECT status FROM customers WHERE id = $1`, id).Scan(&status))
		}
		erased = true
		if err := pii.DestroyCustomerKey(ctx, tx, id); err != nil {
			return fmt.Errorf("erase customer key: %w", err)
		}
		// Rows in the order every other writer locks them (customer, codes,
		// requests), so that no two transactions wait on each other.
		for _, q := range []struct {
			what, sql string
			args      []any
		}{
			{"delete codes", `DELETE FROM confirmation_codes WHERE customer_id = $1`, []any{id}},
			{"delete grants", `DELETE FROM data_access_grants WHERE customer_id = $1`, []any{id}},
			{"cancel correction requests", `UPDATE correction_requests SET status = 'cancelled', updated_at = $2
				WHERE customer_id = $1 AND status IN ('awaiting_confirmation', 'pending')`, []any{id, tx.Now}},
			{"suppress deliveries", `UPDATE deliveries SET status = 'suppressed', skip_reason = 'erased', updated_at = $2
				WHERE customer_id = $1 AND status IN ('planned', 'queued')`, []any{id, tx.Now}},
			// Sealed under the destroyed key, so unreadable in backups
			// already; deleted here from the live database.
			{"delete inbound events", `DELETE FROM inbound_events WHERE customer_id = $1`, []any{id}},
			{"delete unmatched inbound events", `DELETE FROM inbound_events WHERE customer_id = '' AND from_idx <> '' AND from_idx IN ($1, $2, $3)`,
				[]any{phoneIdx.String, emailIdx.String, openidIdx.String}},
			{"delete devbox messages", `DELETE FROM devbox_messages WHERE customer_id = $1`, []any{id}},
			{"delete wechat bind requests", `DELETE FROM wechat_bind_requests WHERE customer_id = $1`, []any{id}},
			{"forget unmatched tickets' sender", `UPDATE tickets SET reply_key_id = '', reply_key_wrapped = '', reply_enc = ''
				WHERE unmatched AND sender_idx <> '' AND sender_idx IN ($1, $2, $3)`, []any{phoneIdx.String, emailIdx.String, openidIdx.String}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("erase customer: %s: %w", q.what, err)
			}
		}
		_, err = recordErasure(ctx, tx, id, ErasureDone, actor, reason)
		return err
	})
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return false, handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	}
	return erased, err
}

// RefuseErasure records a refusal to erase, with the reason the customer
// is owed (Art. 50), e.g. a legal duty to keep the records.
func (s *Store) RefuseErasure(ctx context.Context, id, actor, reason string) (*ErasureDecision, error) {
	reason, err := decisionReason(reason, "refuse an erasure")
	if err != nil {
		return nil, err
	}
	var d *ErasureDecision
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		var status customers.Status
		if err := tx.QueryRowContext(ctx, `SELECT status FROM customers WHERE id = $1`, id).Scan(&status); err != nil {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		if status == customers.StatusErased {
			return handover.Errorf(handover.ECONFLICT, "The customer is already erased.")
		}
		d = &ErasureDecision{Decision: ErasureRefused, Reason: reason, Actor: actor, CreatedAt: tx.Now}
		var err error
		d.ID, err = recordErasure(ctx, tx, id, ErasureRefused, actor, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func recordErasure(ctx context.Context, tx *database.Tx, customerID, decision, actor, reason string) (string, error) {
	id := ulid.Make().String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO erasure_decisions (id, customer_id, decision, reason, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, customerID, decision, reason, actor, tx.Now); err != nil {
		return "", fmt.Errorf("record erasure decision: %w", err)
	}
	action := "customer.erase"
	if decision == ErasureRefused {
		action = "customer.erase_refused"
	}
	detail, _ := json.Marshal(map[string]string{"reason": reason, "decision": id})
	return id, audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "customer", ObjectID: customerID, Detail: string(detail)})
}

func erasureDecisions(ctx context.Context, q database.Querier, customerID string) ([]ErasureDecision, error) {
	out, err := database.QueryAll(ctx, q, func(row database.Scanner) (ErasureDecision, error) {
		var d ErasureDecision
		err := row.Scan(&d.ID, &d.Decision, &d.Reason, &d.Actor, &d.CreatedAt)
		d.CreatedAt = d.CreatedAt.UTC()
		return d, err
	}, `SELECT id, decision, reason, actor, created_at FROM erasure_decisions WHERE customer_id = $1 ORDER BY id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erasure decisions: %w", err)
	}
	if out == nil {
		out = []ErasureDecision{} // an empty list, not null, in the JSON
	}
	return out, nil
}
