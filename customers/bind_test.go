package customers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestBindAddress: an address fills an empty slot (sealed, found by its
// blind index, audited); the same one again changes nothing; another
// customer's is ErrAddressTaken (audited as refused); a different one of
// the kind on file is ErrHasOther unless replacing is asked for.
func TestBindAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "l.csv", csvText("姓名,手机,邮箱", "张三,13812345678,", "李四,,li@example.com")), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		zhang, _ := s.MatchContact(ctx, "", "+8613812345678", "")
		li, _ := s.MatchContact(ctx, "", "", "li@example.com")
		bind := func(id string, a channels.Address, replace bool) (bool, error) {
			return s.BindAddress(ctx, customers.Binding{CustomerID: id, Address: a, Replace: replace, Source: customers.BindSourceTicketLink, Actor: "staff:t"})
		}
		if changed, err := bind(li, channels.Address{Phone: "139 0000 1111"}, false); err != nil || !changed {
			t.Fatalf("bind a phone to 李四: %v, %v", changed, err)
		}
		if got, _ := s.MatchContact(ctx, "", "+8613900001111", ""); got != li {
			t.Fatalf("the phone finds %q", got)
		}
		if c, _ := s.FindCustomerByID(ctx, li); c.Phone != "+8613900001111" || c.Email != "li@example.com" {
			t.Fatalf("李四 is %+v", c.Masked())
		}
		if changed, err := bind(li, channels.Address{Phone: "+8613900001111"}, false); err != nil || changed {
			t.Fatalf("the same phone again: %v, %v", changed, err)
		}
		if _, err := bind(li, channels.Address{Phone: "+8613812345678"}, true); !errors.Is(err, customers.ErrAddressTaken) {
			t.Fatalf("张三's phone to 李四: %v", err)
		}
		if _, err := bind(zhang, channels.Address{Phone: "+8613700000000"}, false); !errors.Is(err, customers.ErrHasOther) {
			t.Fatalf("a second phone for 张三: %v", err)
		}
		if _, err := bind(zhang, channels.Address{Phone: "1", Email: "x@example.com"}, false); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("two addresses at once: %v", err)
		}
		if changed, err := bind(zhang, channels.Address{Phone: "+8613700000000"}, true); err != nil || !changed {
			t.Fatalf("replacing 张三's phone: %v, %v", changed, err)
		}
		if got, _ := s.MatchContact(ctx, "", "+8613812345678", ""); got != "" {
			t.Fatal("the replaced phone still finds 张三")
		}
		for action, want := range map[string]int{"customer.bind_address": 2, "customer.bind_refused": 1} {
			var n int
			db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n)
			if n != want {
				t.Errorf("%d %s entries, want %d", n, action, want)
			}
		}
	})
}

// TestWeChatBindReview: an openid offered for a customer without one is
// bound; for one with another it is queued (once), and approving it
// replaces the openid; an openid bound to another customer meanwhile
// cannot be approved.
func TestWeChatBindReview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "l.csv", csvText("姓名,手机,openid", "张三,13812345678,oZhang", "李四,13900001111,")), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		zhang, _ := s.MatchContact(ctx, "oZhang", "", "")
		li, _ := s.MatchContact(ctx, "", "+8613900001111", "")
		for _, c := range []struct{ customer, openID, want string }{
			{li, "oLi", customers.WeChatBound},
			{li, "oLi", customers.WeChatUnchanged},
			{zhang, "oNew", customers.WeChatQueued},
			{zhang, "oNew", customers.WeChatQueued},
			{zhang, "oLi", customers.WeChatRefused},
		} {
			if got, err := s.ProposeWeChatBind(ctx, c.customer, c.openID, "link1"); err != nil || got != c.want {
				t.Fatalf("propose %s: %q, %v; want %q", c.openID, got, err, c.want)
			}
		}
		pending, _, err := s.FindWeChatBindRequests(ctx, "", "", 200)
		if err != nil || len(pending) != 1 || pending[0].CustomerID != zhang || pending[0].Current == "" || pending[0].Proposed == "oNew" {
			t.Fatalf("pending %+v, %v", pending, err)
		}
		r, err := s.DecideWeChatBind(ctx, pending[0].ID, true, "staff:reviewer", "the customer phoned")
		if err != nil || r.Status != customers.BindApproved {
			t.Fatalf("approve: %+v, %v", r, err)
		}
		if got, _ := s.MatchContact(ctx, "oNew", "", ""); got != zhang {
			t.Fatalf("approved openid finds %q", got)
		}
		// Offered for 李四 (who has oLi), then bound to 张三's record by
		// other means: the approval is refused.
		s.ProposeWeChatBind(ctx, li, "oLater", "link2")
		pending, _, _ = s.FindWeChatBindRequests(ctx, "", "", 200)
		if _, err := s.BindAddress(ctx, customers.Binding{CustomerID: zhang, Address: channels.Address{OpenID: "oLater"}, Replace: true,
			Source: customers.BindSourceReview, Actor: "staff:x"}); err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 {
			t.Fatalf("%d pending", len(pending))
		}
		if _, err := s.DecideWeChatBind(ctx, pending[0].ID, true, "staff:reviewer", ""); !errors.Is(err, customers.ErrAddressTaken) {
			t.Fatalf("approve a taken openid: %v", err)
		}
	})
}
