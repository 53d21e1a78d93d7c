package channels

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// SentLog remembers what went out to whom (by blind index), so that a
// reply can be tied to the message it answers: an SMS reply carries only
// the phone number and the sign name, and belongs to the latest message
// sent to that phone under that sign name. Campaign sends are not logged:
// their deliveries say what went out to whom already, and the campaigns
// service is a source Latest consults (Consult).
type SentLog struct {
	db      *database.DB
	index   *pii.Index
	log     *slog.Logger
	sources []SentSource
}

// Sent is a message Latest found: its delivery, customer and when it went
// out.
type Sent struct {
	DeliveryID, CustomerID string
	At                     time.Time
}

// A SentSource finds the latest message it knows of that was sent on
// channel to the contact whose blind index is idx (the customer's phone,
// email or openid index, by channel) under sender ("" for any); a zero
// Sent for none.
type SentSource func(ctx context.Context, channel Name, idx, sender string) (Sent, error)

// Consult adds a source Latest reads besides the log. It is wiring: call
// it before the inbox processes events.
func (l *SentLog) Consult(src SentSource) { l.sources = append(l.sources, src) }

// NewSentLog returns a SentLog; a nil log is slog.Default().
func NewSentLog(db *database.DB, index *pii.Index, log *slog.Logger) *SentLog {
	if log == nil {
		log = slog.Default()
	}
	return &SentLog{db: db, index: index, log: log}
}

// addressIndex is the blind index of the address channel uses: the phone
// for SMS, the email for email, the openid for WeChat; another channel
// (the devbox) uses the first there is of openid, phone and email.
func addressIndex(index *pii.Index, channel Name, a Address) string {
	switch {
	case channel == SMS:
		return blind(index.Phone, a.Phone)
	case channel == Email:
		return blind(index.Email, a.Email)
	case channel == WeChat:
		return blind(index.OpenID, a.OpenID)
	case a.OpenID != "":
		return index.OpenID(a.OpenID)
	case a.Phone != "":
		return index.Phone(a.Phone)
	case a.Email != "":
		return index.Email(a.Email)
	}
	return ""
}

func blind(index func(string) string, s string) string {
	if s == "" {
		return ""
	}
	return index(s)
}

// Record logs the messages that were sent (results without an error).
func (l *SentLog) Record(ctx context.Context, channel Name, sender func(Message) string, msgs []Message, results []Result) error {
	var sent []int
	var toIdx []string // the blind index of each sent one's address
	for i, r := range results {
		if r.Err != nil || msgs[i].DeliveryID == "" {
			continue
		}
		if idx := addressIndex(l.index, channel, msgs[i].To); idx != "" {
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
// ("" matches any sender), in the log or a source it consults; a zero
// Sent for none.
func (l *SentLog) Latest(ctx context.Context, channel Name, from Address, sender string) (Sent, error) {
	idx := addressIndex(l.index, channel, from)
	if idx == "" {
		return Sent{}, nil
	}
	q := `SELECT delivery_id, customer_id, sent_at FROM sent_messages WHERE channel = $1 AND to_idx = $2`
	args := []any{string(channel), idx}
	if sender != "" {
		q += ` AND sender = $3`
		args = append(args, sender)
	}
	var latest Sent
	err := l.db.QueryRowContext(ctx, q+` ORDER BY sent_at DESC, delivery_id DESC LIMIT 1`, args...).Scan(&latest.DeliveryID, &latest.CustomerID, &latest.At)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Sent{}, fmt.Errorf("sent log: %w", err)
	}
	for _, src := range l.sources {
		s, err := src(ctx, channel, idx, sender)
		if err != nil {
			return Sent{}, fmt.Errorf("sent log: %w", err)
		}
		if s.DeliveryID != "" && (latest.DeliveryID == "" || s.At.After(latest.At) || s.At.Equal(latest.At) && s.DeliveryID > latest.DeliveryID) {
			latest = s
		}
	}
	return latest, nil
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
