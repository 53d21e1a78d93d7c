package customers_test

import (
	"context"
	"slices"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestOptOuts: an opt-out row from before kinds (kind '*') counts as every
// kind on its channel; adding is idempotent and audited once; setting
// fewer resumes the rest (audited) and leaves exactly what was kept; an
// unknown kind is refused.
func TestOptOuts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "c.csv", csvText("姓名,手机", "张三,13812345678")), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		id := allCustomers(t, s, customers.Filter{})[0].ID
		if _, err := db.ExecContext(ctx, `INSERT INTO channel_optouts (customer_id, channel, kind, source, created_at) VALUES ($1, 'sms', '*', 'reply', $2)`,
			id, db.Now()); err != nil {
			t.Fatal(err)
		}
		smsAll := customers.OptOutsOf(channels.SMS, customers.OptOutKinds)
		if got, err := s.OptOuts(ctx, id); err != nil || !slices.Equal(got, smsAll) {
			t.Fatalf("an old row: %v, %v; want %v", got, err, smsAll)
		}
		email := customers.OptOutsOf(channels.Email, customers.ReplyOptOutKinds)
		for range 2 {
			if _, err := s.AddOptOuts(ctx, id, email, customers.SourceReply, "customer:"+id); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.OptOuts(ctx, id); !slices.Equal(got, append(slices.Clone(smsAll), email...)) {
			t.Fatalf("after adding email: %v", got)
		}
		keep := []customers.OptOut{{Channel: channels.SMS, Kind: customers.OptOutPromotional}}
		added, err := s.SetOptOuts(ctx, id, keep, customers.SourcePortal, "customer:"+id)
		if err != nil || !slices.Equal(added, keep) {
			t.Fatalf("set: %v, %v", added, err)
		}
		if got, _ := s.OptOuts(ctx, id); !slices.Equal(got, keep) {
			t.Fatalf("after setting one: %v", got)
		}
		var outs, ins int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.opt_out' AND object_id = $1`, id).Scan(&outs)
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.opt_in' AND object_id = $1`, id).Scan(&ins)
		if outs != 2 || ins != 1 {
			t.Fatalf("audit: %d opt-outs, %d opt-ins; want 2, 1", outs, ins)
		}
		bad := []customers.OptOut{{Channel: channels.SMS, Kind: "transfer_notice"}}
		if _, err := s.AddOptOuts(ctx, id, bad, customers.SourcePortal, "customer:"+id); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("a required notice opted out of: %v", err)
		}
	})
}
