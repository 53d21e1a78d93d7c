// Package devbox is the channel of the embedded default: it sends nothing,
// records every message it would have sent (sealed, like all personal data)
// so the dashboard can show it with its link, and can simulate the
// delivery receipts and replies a real provider would push.
package devbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Channel records messages instead of sending them.
type Channel struct {
	db     *database.DB
	keys   *pii.Keyring
	record channels.RecordFunc
}

// New returns a devbox channel. When record is not nil, every recorded
// message is followed by a simulated "delivered" receipt through it.
func New(db *database.DB, keys *pii.Keyring, record channels.RecordFunc) *Channel {
	return &Channel{db: db, keys: keys, record: record}
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return channels.Devbox }

// Capabilities implements channels.Channel.
func (c *Channel) Capabilities() channels.Capabilities {
	return channels.Capabilities{MaxBatch: 500, Notices: true, Replies: true}
}

// Message is a recorded message as the dashboard shows it.
type Message struct {
	ID         string
	DeliveryID string
	CustomerID string
	Kind       channels.Kind
	To         channels.Address
	Subject    string
	Text       string
	Link       string
	CreatedAt  time.Time
}

type sealedMessage struct {
	To      channels.Address `json:"to"`
	Subject string           `json:"subject,omitempty"`
	Text    string           `json:"text"`
	Link    string           `json:"link,omitempty"`
}

// Send implements channels.Channel: it records the batch in one
// transaction. Each message is sealed under its customer's data key, so
// that erasing the customer makes it unreadable in backups too; a message
// to no customer (a test send) under a key of its own.
func (c *Channel) Send(ctx context.Context, msgs []channels.Message) []channels.Result {
	results := make([]channels.Result, len(msgs))
	err := c.db.InTx(ctx, func(tx *database.Tx) error {
		keys, err := c.keys.CustomerKeys(ctx, tx, customerIDs(msgs))
		if err != nil {
			return err
		}
		for i, m := range msgs {
			id := ulid.Make().String()
			sealed := sealedMessage{To: m.To, Subject: m.Subject, Text: m.Text, Link: m.Link}
			var env pii.Envelope
			if dk := keys[m.CustomerID]; dk != nil {
				env, err = pii.SealForCustomer(dk, sealed, "devbox/"+id)
			} else {
				env, err = c.keys.SealEnvelope(sealed, "devbox/"+id)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO devbox_messages (id, delivery_id, customer_id, kind, key_id, key_wrapped, sealed, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, m.DeliveryID, m.CustomerID, string(m.Kind), env.KeyID, env.Wrapped, env.Sealed, tx.Now); err != nil {
				return err
			}
			results[i] = channels.Result{DeliveryID: m.DeliveryID, ProviderID: "devbox-" + id}
		}
		return nil
	})
	if err != nil {
		for i := range results {
			results[i] = channels.Result{DeliveryID: msgs[i].DeliveryID, Err: channels.Errorf(channels.Transient, "", "devbox could not record the message")}
		}
		return results
	}
	if c.record != nil {
		receipts := make([]channels.InboundEvent, len(results))
		for i, r := range results {
			receipts[i] = channels.InboundEvent{Channel: channels.Devbox, Kind: channels.EventReceipt, DedupKey: "receipt:" + r.ProviderID,
				ProviderMessageID: r.ProviderID, DeliveryID: r.DeliveryID, Status: channels.StatusDelivered}
		}
		// A lost simulated receipt only leaves the delivery at "sent".
		c.record(ctx, receipts)
	}
	return results
}

func customerIDs(msgs []channels.Message) []string {
	seen := map[string]bool{}
	var ids []string
	for _, m := range msgs {
		if m.CustomerID != "" && !seen[m.CustomerID] {
			seen[m.CustomerID] = true
			ids = append(ids, m.CustomerID)
		}
	}
	return ids
}

// SimulateReply records a reply from the customer of a recorded delivery,
// as if they had answered by the channel the message went out on.
func (c *Channel) SimulateReply(ctx context.Context, deliveryID, text string) error {
	if c.record == nil {
		return fmt.Errorf("devbox: no inbox to record the reply")
	}
	msgs, err := c.Find(ctx, deliveryID, 1)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return handover.Errorf(handover.ENOTFOUND, "The devbox recorded no message for this delivery.")
	}
	_, err = c.record(ctx, []channels.InboundEvent{{Channel: channels.Devbox, Kind: channels.EventMessage,
		DedupKey: "reply:" + ulid.Make().String(), From: msgs[0].To, DeliveryID: deliveryID, Text: text}})
	return err
}

// Find lists recorded messages, newest first; deliveryID "" lists all.
func (c *Channel) Find(ctx context.Context, deliveryID string, limit int) ([]Message, error) {
	list, _, err := c.FindPage(ctx, deliveryID, "", limit)
	return list, err
}

// FindPage lists up to limit recorded messages (100 if limit is not 1 to
// 500), newest first, older than cursor (the next cursor of the previous
// page; "" for the first); deliveryID "" lists all. next is "" on the last
// page. An erased customer's messages are left out of their page.
func (c *Channel) FindPage(ctx context.Context, deliveryID, cursor string, limit int) (out []Message, next string, err error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	type row struct {
		m    Message
		kind string
		env  pii.Envelope
	}
	list, err := database.QueryAll(ctx, c.db, func(sc database.Scanner) (row, error) {
		var r row
		err := sc.Scan(&r.m.ID, &r.m.DeliveryID, &r.m.CustomerID, &r.kind, &r.env.KeyID, &r.env.Wrapped, &r.env.Sealed, &r.m.CreatedAt)
		return r, err
	}, `SELECT id, delivery_id, customer_id, kind, key_id, key_wrapped, sealed, created_at
		FROM devbox_messages WHERE ($1 = '' OR delivery_id = $1) AND ($2 = '' OR id < $2)`+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit+1),
		deliveryID, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("devbox find: %w", err)
	}
	list, next = database.Page(list, limit, func(r row) string { return r.m.ID })
	var ids []string
	for _, r := range list {
		if r.env.KeyID == pii.CustomerKeyed {
			ids = append(ids, r.m.CustomerID)
		}
	}
	keys, err := c.keys.CustomerKeys(ctx, c.db, ids)
	if err != nil {
		return nil, "", err
	}
	for _, r := range list {
		var s sealedMessage
		if r.env.KeyID == pii.CustomerKeyed {
			err = pii.OpenWith(keys[r.m.CustomerID], r.env, "devbox/"+r.m.ID, &s)
		} else {
			err = c.keys.OpenEnvelope(r.env, "devbox/"+r.m.ID, &s)
		}
		if errors.Is(err, pii.ErrShredded) {
			continue // the customer was erased: nothing of theirs to show
		}
		if err != nil {
			return nil, "", fmt.Errorf("devbox open %s: %w", r.m.ID, err)
		}
		m := r.m
		m.Kind, m.To, m.Subject, m.Text, m.Link = channels.Kind(r.kind), s.To, s.Subject, s.Text, s.Link
		out = append(out, m)
	}
	return out, next, nil
}

var _ channels.Channel = (*Channel)(nil)
