package customers

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// OptOutChannel records that the customer wants no more messages on one
// channel (a row in channel_optouts) and audits it; it reports whether
// that is new. OptOut is every channel.
func (s *Store) OptOutChannel(ctx context.Context, id, channel, source, actor string) (bool, error) {
	changed := false
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO channel_optouts (customer_id, channel, source, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, channel) DO NOTHING`, id, channel, source, tx.Now)
		if err != nil {
			return fmt.Errorf("opt out of channel: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.opt_out_channel", ObjectType: "customer", ObjectID: id,
			Detail: "channel=" + channel + " source=" + source})
	})
	return changed, err
}

// ChannelOptOuts returns the channels the customer opted out of, one by one.
func (s *Store) ChannelOptOuts(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT channel FROM channel_optouts WHERE customer_id = $1 ORDER BY channel`, id)
	if err != nil {
		return nil, fmt.Errorf("channel opt-outs: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ch string
		if err := rows.Scan(&ch); err != nil {
			return nil, fmt.Errorf("channel opt-outs: %w", err)
		}
		out = append(out, ch)
	}
	return out, rows.Err()
}
