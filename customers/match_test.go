package customers_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestMatchContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		path := writeFile(t, "c.csv", csvText("姓名,手机,邮箱,openid", "张三,13812345678,Zhang@Example.com,oABC123", "李四,13900001111,,"))
		if _, err := newImporter(t, s).Run(ctx, path, nil, "test", nil); err != nil {
			t.Fatal(err)
		}
		zhang := allCustomers(t, s, customers.Filter{Phone: "+8613812345678"})[0].ID
		li := allCustomers(t, s, customers.Filter{Phone: "+8613900001111"})[0].ID
		for _, c := range []struct {
			openID, phone, email, want string
		}{
			{"oABC123", "", "", zhang},
			{"", "+8613900001111", "", li},
			{"", "", "zhang@example.com", zhang},
			{"oUNKNOWN", "+8613900001111", "", li}, // falls through to the phone
			{"", "+8613700000000", "nobody@example.com", ""},
			{"", "", "", ""},
		} {
			got, err := s.MatchContact(ctx, c.openID, c.phone, c.email)
			if err != nil || got != c.want {
				t.Errorf("MatchContact(%q, %q, %q) = %q, %v; want %q", c.openID, c.phone, c.email, got, err, c.want)
			}
		}
	})
}
