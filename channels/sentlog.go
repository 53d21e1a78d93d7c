package channels

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// SentLog remembers what went out to whom (by blind index), so that a
// reply can be tied to the message it answers: an SMS reply carries only
// the phone number and the sign name, and belongs to the latest message
// sent to that phone under that sign name.
type SentLog struct {
	db    *database.DB
	index *pii.Index
	log   *slog.Logger
}

// NewSentLog returns a SentLog; a nil log is slog.Default().
func NewSentLog(db *database.DB, index *pii.Index, log *slog.Logger) *SentLog {
	if log == nil {
		log = slog.Default()
	}
	return &SentLog{db: db, index: index, log: log}
}

// addressIndex is the blind index of the address a channel uses.
func addressIndex(index *pii.Index, a Address) string {
	switch {
	case a.OpenID != "":
		return index.OpenID(a.OpenID)
	case a.Phone != "":
		return index.Phone(a.Phone)
	case a.Email != "":
		return index.Email(a.Email)
	}
	return ""
}

// Record logs the messages that were sent (results without an error).
func (l *SentLog) Record(ctx context.Context, channel Name, sender func(Message) string, msgs []Message, results []Result) error {
	var sent []int
	var toIdx []string // the blind index of each sent one's address
	for i, r := range results {
		if r.Err != nil || msgs[i].DeliveryID == "" {
			continue
		}
		if idx := addressIndex(l.index, msgs[i].To); idx != "" {
			sent, toIdx = append(sent, i), append(toIdx, idx)
		}
	}
	if len(sent) == 0 {
		return nil
	}
	return l.db.InTx(ctx, func(tx *database.Tx) error {
		if tx.Dialect() == database.Postgres {
			// One statement text whatever the count: prepared once per
			// connection.
			n := len(sent)
			ids, customers, senders, providers := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			for j, i := range sent {
				m := msgs[i]
				ids[j], customers[j], senders[j], providers[j] = m.DeliveryID, m.CustomerID, sender(m), results[i].ProviderID
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO sent_messages (delivery_id, channel, customer_id, to_idx, sender, provider_id, sent_at)
				SELECT d, $1, c, t, s, p, $2::timestamp FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS v (d, c, t, s, p)
				ON CONFLICT (delivery_id, channel) DO NOTHING`, string(channel), tx.Now, ids, customers, toIdx, senders, providers)
			return err
		}
		cols := []string{"delivery_id", "channel", "customer_id", "to_idx", "sender", "provider_id", "sent_at"}
		return database.InsertRows(ctx, tx, "sent_messages", cols, "ON CONFLICT (delivery_id, channel) DO NOTHING", len(sent),
			func(i int, dst []any) []any {
				m := msgs[sent[i]]
				return append(dst, m.DeliveryID, string(channel), m.CustomerID, toIdx[i], sender(m),
					results[sent[i]].ProviderID, tx.Now)
			})
	})
}

// Latest finds the latest message sent on channel to from under sender
// ("" matches any sender): its delivery and customer, or "" for none.
func (l *SentLog) Latest(ctx context.Context, channel Name, from Address, sender string) (deliveryID, customerID string, err error) {
	idx := addressIndex(l.index, from)
	if idx == "" {
		return "", "", nil
	}
	q := `SELECT delivery_id, customer_id FROM sent_messages WHERE channel = $1 AND to_idx = $2`
	args := []any{string(channel), idx}
	if sender != "" {
		q += ` AND sender = $3`
		args = append(args, sender)
	}
	err = l.db.QueryRowContext(ctx, q+` ORDER BY sent_at DESC, delivery_id DESC LIMIT 1`, args...).Scan(&deliveryID, &customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("sent log: %w", err)
	}
	return deliveryID, customerID, nil
}

// Logged is a channel whose successful sends are written to a SentLog.
type Logged struct {
	Channel
	log    *SentLog
	sender func(Message) string
}

// NewLogged wraps ch; sender names the sender a message went out under
// (the SMS sign name; "" where replies carry none).
func NewLogged(ch Channel, log *SentLog, sender func(Message) string) *Logged {
	return &Logged{Channel: ch, log: log, sender: sender}
}

// Unwrap returns the channel l sends through.
func (l *Logged) Unwrap() Channel { return l.Channel }

// Send sends and logs what went out. A failure to log does not undo the
// sends: replies to those messages then match by phone alone.
func (l *Logged) Send(ctx context.Context, msgs []Message) []Result {
	results := l.Channel.Send(ctx, msgs)
	if err := l.log.Record(ctx, l.Name(), l.sender, msgs, results); err != nil {
		l.log.log.Warn("sent log: record failed", "channel", string(l.Name()), "err", err)
	}
	return results
}
