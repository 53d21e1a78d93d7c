package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// Kinds of message a customer can opt out of, per channel. The notices the
// law requires (the transfer notice, PIPL Art. 22; an incident notice,
// Art. 57) are none of them: no opt-out stops those, and the customer is
// told so wherever they opt out.
const (
	OptOutPromotional = "promotional" // marketing
	OptOutSurvey      = "survey"      // satisfaction surveys
	OptOutService     = "service"     // consent requests, "please check your details"
	// optOutEvery is a row from before kinds (or a whole-customer opt-out):
	// every kind on its channel.
	optOutEvery = "*"
)

// OptOutKinds lists the kinds a customer can opt out of, in display order.
var OptOutKinds = []string{OptOutPromotional, OptOutSurvey, OptOutService}

// OptOutChannels lists the channels a customer can opt out of, in display
// order; the portal offers the devbox only where it runs (embedded mode).
var OptOutChannels = []channels.Name{channels.SMS, channels.WeChat, channels.Email, channels.Devbox}

// ReplyOptOutKinds is what a "退订"/"TD" reply or an email's one-click
// unsubscribe stops on its channel: promotional messages and surveys, what
// carriers treat as commercial. Service messages and the required notices
// still come.
var ReplyOptOutKinds = []string{OptOutPromotional, OptOutSurvey}

// OptOut is one opt-out: no messages of Kind on Channel.
type OptOut struct {
	Channel channels.Name `json:"channel"`
	Kind    string        `json:"kind"`
}

// OptOutsOf is every kind in kinds on channel ch.
func OptOutsOf(ch channels.Name, kinds []string) []OptOut {
	out := make([]OptOut, len(kinds))
	for i, k := range kinds {
		out[i] = OptOut{Channel: ch, Kind: k}
	}
	return out
}

// everyOptOut is every channel × kind a customer can opt out of.
func everyOptOut() []OptOut {
	var out []OptOut
	for _, ch := range OptOutChannels {
		out = append(out, OptOutsOf(ch, OptOutKinds)...)
	}
	return out
}

func checkOptOuts(list []OptOut) error {
	for _, o := range list {
		if o.Channel == "" || len(o.Channel) > 20 || !slices.Contains(OptOutKinds, o.Kind) {
			return handover.Errorf(handover.EINVALID, "an opt-out names a channel and a kind: %s", strings.Join(OptOutKinds, ", "))
		}
	}
	return nil
}

// AddOptOuts records the customer's opt-outs and audits the new ones; it
// returns those that were new. Repeating it changes nothing.
func (s *Store) AddOptOuts(ctx context.Context, id string, list []OptOut, source, actor string) ([]OptOut, error) {
	var added []OptOut
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		added, err = s.AddOptOutsTx(ctx, tx, id, list, source, actor)
		return err
	})
	return added, err
}

// AddOptOutsTx is AddOptOuts inside the caller's transaction.
func (s *Store) AddOptOutsTx(ctx context.Context, tx *database.Tx, id string, list []OptOut, source, actor string) ([]OptOut, error) {
	if err := checkOptOuts(list); err != nil {
		return nil, err
	}
	var added []OptOut
	for _, o := range list {
		res, err := tx.ExecContext(ctx, `INSERT INTO channel_optouts (customer_id, channel, kind, source, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (customer_id, channel, kind) DO NOTHING`, id, string(o.Channel), o.Kind, source, tx.Now)
		if err != nil {
			return nil, fmt.Errorf("opt out: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = append(added, o)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	return added, audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.opt_out", ObjectType: "customer", ObjectID: id,
		Detail: "source=" + source + " " + describeOptOuts(added)})
}

// SetOptOuts makes list the customer's opt-outs (the portal's choices):
// what is not in it any more comes again, what is new stops. A customer
// opted out of everything before kinds existed who now keeps less is
// active again. Both directions are audited; it returns what is new.
func (s *Store) SetOptOuts(ctx context.Context, id string, list []OptOut, source, actor string) ([]OptOut, error) {
	if err := checkOptOuts(list); err != nil {
		return nil, err
	}
	var added []OptOut
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		before, err := s.optOuts(ctx, tx, id)
		if err != nil {
			return err
		}
		var resumed []OptOut
		for _, o := range before {
			if !slices.Contains(list, o) {
				resumed = append(resumed, o)
			}
		}
		if len(resumed) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM channel_optouts WHERE customer_id = $1`, id); err != nil {
				return fmt.Errorf("opt back in: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE customers SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
				StatusActive, tx.Now, id, StatusOptedOut); err != nil {
				return fmt.Errorf("opt back in: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.opt_in", ObjectType: "customer", ObjectID: id,
				Detail: "source=" + source + " " + describeOptOuts(resumed)}); err != nil {
				return err
			}
			before = nil
		}
		var fresh []OptOut
		for _, o := range list {
			if !slices.Contains(before, o) {
				fresh = append(fresh, o)
			}
		}
		_, err = s.AddOptOutsTx(ctx, tx, id, fresh, source, actor)
		added = fresh
		return err
	})
	return added, err
}

// OptOuts returns what the customer opted out of, channel by channel in
// OptOutChannels order: rows from before kinds, and a whole-customer
// opt-out (status opted_out), count as every kind.
func (s *Store) OptOuts(ctx context.Context, id string) ([]OptOut, error) {
	var out []OptOut
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		out, err = s.optOuts(ctx, tx, id)
		return err
	})
	return out, err
}

func (s *Store) optOuts(ctx context.Context, tx *database.Tx, id string) ([]OptOut, error) {
	var status Status
	if err := tx.QueryRowContext(ctx, `SELECT status FROM customers WHERE id = $1`, id).Scan(&status); err != nil {
		return nil, fmt.Errorf("opt-outs: %w", database.MapError(err))
	}
	if status == StatusOptedOut {
		return everyOptOut(), nil
	}
	stored, err := database.QueryAll(ctx, tx, func(row database.Scanner) (OptOut, error) {
		var o OptOut
		err := row.Scan(&o.Channel, &o.Kind)
		return o, err
	}, `SELECT channel, kind FROM channel_optouts WHERE customer_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("opt-outs: %w", err)
	}
	var out []OptOut
	for _, o := range everyOptOut() {
		if slices.Contains(stored, o) || slices.Contains(stored, OptOut{o.Channel, optOutEvery}) {
			out = append(out, o)
		}
	}
	return out, nil
}

// describeOptOuts is the audit's words for a list: "sms:promotional,
// sms:survey".
func describeOptOuts(list []OptOut) string {
	s := make([]string, len(list))
	for i, o := range list {
		s[i] = string(o.Channel) + ":" + o.Kind
	}
	return "optouts=" + strings.Join(s, ",")
}
