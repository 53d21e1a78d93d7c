package customers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// What ProposeWeChatBind did with an openid.
const (
	WeChatBound     = "bound"     // the customer had none: bound
	WeChatUnchanged = "unchanged" // already the customer's
	WeChatQueued    = "queued"    // the customer has another: queued for staff review
	WeChatRefused   = "refused"   // bound to another customer: refused
)

// BindStatus is where a WeChat bind request stands.
type BindStatus string

// WeChat bind request statuses. The values are the ones stored and the
// API shows.
const (
	BindPending  BindStatus = "pending"
	BindApproved BindStatus = "approved"
	BindRejected BindStatus = "rejected"
)

// String returns the status as stored.
func (s BindStatus) String() string { return string(s) }

// maxPendingBinds caps the openids queued for one customer, so that a
// link passed around cannot flood the review list.
const maxPendingBinds = 5

// WeChatBindRequest is an openid offered for a customer who already has a
// different one, waiting for staff. Current and Proposed are masked.
type WeChatBindRequest struct {
	ID                string
	CustomerID        string
	LinkID            string
	Current, Proposed string
	Status            BindStatus
	DecidedBy         string
	Reason            string
	CreatedAt         time.Time
	DecidedAt         *time.Time
}

func bindRequestContext(id string) string { return id + "/wechat_bind" }

// ProposeWeChatBind handles the openid WeChat's OAuth (snsapi_base) named
// when the customer's link was opened inside WeChat. It binds it only when
// the customer has no openid; one already on file (imported from the CRM,
// or bound before) is never replaced here: the new one is queued for staff
// review (ApproveWeChatBind). An openid bound to another customer is
// refused. Every outcome but "unchanged" is audited.
func (s *Store) ProposeWeChatBind(ctx context.Context, customerID, openID, linkID string) (string, error) {
	b := Binding{CustomerID: customerID, Address: channels.Address{OpenID: openID}, Source: BindSourcePortalOAuth, Actor: "customer:" + customerID}
	outcome := WeChatBound
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		changed, err := s.BindAddressTx(ctx, tx, b)
		switch {
		case err == nil && !changed:
			outcome = WeChatUnchanged
			return nil
		case errors.Is(err, ErrAddressTaken):
			outcome = WeChatRefused
			return auditBindRefused(ctx, tx, b)
		case errors.Is(err, ErrHasOther):
			outcome = WeChatQueued
			return s.queueWeChatBind(ctx, tx, customerID, openID, linkID)
		}
		return err
	})
	return outcome, err
}

// queueWeChatBind stores an openid for review unless it is already queued
// for the customer or the customer has maxPendingBinds queued.
func (s *Store) queueWeChatBind(ctx context.Context, tx *database.Tx, customerID, openID, linkID string) error {
	pending, err := s.bindRequests(ctx, tx, `customer_id = $1 AND status = $2 ORDER BY id`, customerID, BindPending)
	if err != nil {
		return err
	}
	if len(pending) >= maxPendingBinds {
		return nil
	}
	for _, r := range pending {
		if r.openID == openID {
			return nil
		}
	}
	keys, err := s.vault.CustomerKeys(ctx, tx, []string{customerID})
	if err != nil {
		return err
	}
	id := ulid.Make().String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO wechat_bind_requests (id, customer_id, link_id, openid_enc, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, customerID, linkID, keys[customerID].Seal(openID, bindRequestContext(id)), BindPending, tx.Now); err != nil {
		return fmt.Errorf("queue wechat bind: %w", err)
	}
	return audit.Record(ctx, tx, audit.Entry{Actor: "customer:" + customerID, Action: "customer.wechat_bind_queued", ObjectType: "customer",
		ObjectID: customerID, Detail: "request=" + id + " link=" + linkID})
}

// openBindRequest is a request row with its openid opened.
type openBindRequest struct {
	WeChatBindRequest
	openID string
}

// bindRequests reads the requests where, oldest first; where may end in a
// LIMIT.
func (s *Store) bindRequests(ctx context.Context, q database.Querier, where string, args ...any) ([]*openBindRequest, error) {
	var list []*openBindRequest
	var encs []string
	err := database.EachRow(ctx, q, func(row database.Scanner) error {
		var r openBindRequest
		var enc string
		if err := row.Scan(&r.ID, &r.CustomerID, &r.LinkID, &enc, &r.Status, &r.DecidedBy, &r.Reason, &r.CreatedAt, &r.DecidedAt); err != nil {
			return err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		list, encs = append(list, &r), append(encs, enc)
		return nil
	}, `SELECT id, customer_id, link_id, openid_enc, status, decided_by, reason, created_at, decided_at
		FROM wechat_bind_requests WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("wechat bind requests: %w", err)
	}
	ids := make([]string, len(list))
	for i, r := range list {
		ids[i] = r.CustomerID
	}
	keys, err := s.vault.CustomerKeys(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for i, r := range list {
		if dk := keys[r.CustomerID]; dk != nil { // an erased customer's stays unreadable
			if r.openID, err = dk.Open(encs[i], bindRequestContext(r.ID)); err != nil {
				return nil, fmt.Errorf("open wechat bind request %s: %w", r.ID, err)
			}
		}
		r.Proposed = pii.MaskText(r.openID)
	}
	return list, nil
}

// FindWeChatBindRequests lists up to limit requests in status ("" for
// pending), oldest first, after cursor (the next cursor of the previous
// page; "" for the first), openids masked. next is "" on the last page.
func (s *Store) FindWeChatBindRequests(ctx context.Context, status BindStatus, cursor string, limit int) (out []WeChatBindRequest, next string, err error) {
	if status == "" {
		status = BindPending
	}
	if status != BindPending && status != BindApproved && status != BindRejected {
		return nil, "", handover.Errorf(handover.EINVALID, "status must be pending, approved or rejected")
	}
	list, err := s.bindRequests(ctx, s.db, `status = $1 AND id > $2 ORDER BY id LIMIT `+fmt.Sprint(limit+1), status, cursor)
	if err != nil {
		return nil, "", err
	}
	list, next = database.Page(list, limit, func(r *openBindRequest) string { return r.ID })
	out = make([]WeChatBindRequest, len(list))
	for i, r := range list {
		out[i] = r.WeChatBindRequest
		if cu, err := s.FindCustomerByID(ctx, r.CustomerID); err == nil {
			out[i].Current = pii.MaskText(cu.WeChatOpenID)
		}
	}
	return out, next, nil
}

// DecideWeChatBind approves (the openid replaces the one on file) or
// rejects a pending request, and audits the decision. Approving an openid
// bound to another customer since is ErrAddressTaken and decides nothing.
func (s *Store) DecideWeChatBind(ctx context.Context, id string, approve bool, actor, reason string) (*WeChatBindRequest, error) {
	var out *WeChatBindRequest
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		list, err := s.bindRequests(ctx, tx, `id = $1`, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return handover.Errorf(handover.ENOTFOUND, "WeChat bind request not found.")
		}
		r := list[0]
		if r.Status != BindPending {
			return handover.Errorf(handover.ECONFLICT, "This request was already %s.", r.Status)
		}
		status, action := BindRejected, "customer.wechat_bind_rejected"
		if approve {
			if r.openID == "" {
				return handover.Errorf(handover.ECONFLICT, "The customer was erased; the request cannot be approved.")
			}
			status, action = BindApproved, "customer.wechat_bind_approved"
			if _, err := s.BindAddressTx(ctx, tx, Binding{CustomerID: r.CustomerID, Address: channels.Address{OpenID: r.openID},
				Replace: true, Source: BindSourceReview, Actor: actor}); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE wechat_bind_requests SET status = $1, decided_by = $2, reason = $3, decided_at = $4
			WHERE id = $5 AND status = $6`, status, actor, handover.Clip(reason, 500), tx.Now, id, BindPending)
		if err != nil {
			return fmt.Errorf("decide wechat bind: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return handover.Errorf(handover.ECONFLICT, "This request was decided meanwhile.")
		}
		r.Status, r.DecidedBy, r.Reason, r.DecidedAt = status, actor, handover.Clip(reason, 500), &tx.Now
		out = &r.WeChatBindRequest
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "customer", ObjectID: r.CustomerID, Detail: "request=" + id})
	})
	return out, err
}
