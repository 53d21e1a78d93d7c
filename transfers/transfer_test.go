package transfers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/transfers"
)

func TestCreateTransfer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := transfers.NewStore(db)
		valid := func() *transfers.Transfer {
			return &transfers.Transfer{SellerName: "上海甲贸易有限公司", BuyerName: "杭州乙商贸有限公司", BuyerContact: "dpo@yi.example.com",
				EffectiveDate: "2026-03-01", Purposes: []string{"订单履约", "售后服务"}, DataCategories: []string{"name", "phone", "Region"}, RetentionDays: 365}
		}
		for _, c := range []struct {
			field string
			edit  func(t *transfers.Transfer)
		}{
			{"seller_name", func(t *transfers.Transfer) { t.SellerName = " " }},
			{"buyer_name", func(t *transfers.Transfer) { t.BuyerName = "" }},
			{"buyer_contact", func(t *transfers.Transfer) { t.BuyerContact = "" }},
			{"effective_date", func(t *transfers.Transfer) { t.EffectiveDate = "2026-02-30" }},
			{"effective_date", func(t *transfers.Transfer) { t.EffectiveDate = "01/03/2026" }},
			{"purposes", func(t *transfers.Transfer) { t.Purposes = []string{" "} }},
			{"data_categories", func(t *transfers.Transfer) { t.DataCategories = nil }},
			{"data_categories", func(t *transfers.Transfer) { t.DataCategories = []string{"name", "id_card"} }},
			{"retention_days", func(t *transfers.Transfer) { t.RetentionDays = 0 }},
			{"retention_days", func(t *transfers.Transfer) { t.RetentionDays = 3651 }},
		} {
			tr := valid()
			c.edit(tr)
			err := s.CreateTransfer(ctx, tr, "staff:s1")
			if handover.ErrorCode(err) != handover.EINVALID || !strings.Contains(handover.ErrorMessage(err), c.field) {
				t.Errorf("%s: got %v", c.field, err)
			}
		}
		tr := valid()
		if err := s.CreateTransfer(ctx, tr, "staff:s1"); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindTransferByID(ctx, tr.ID)
		if err != nil || got.BuyerName != tr.BuyerName || strings.Join(got.DataCategories, ",") != "name,phone,region" ||
			len(got.Purposes) != 2 || got.RetentionDays != 365 || got.CreatedBy != "staff:s1" || !got.CreatedAt.Equal(tr.CreatedAt) {
			t.Fatalf("FindTransferByID = %+v, %v", got, err)
		}
		if entries, _ := audit.Find(ctx, db, audit.Filter{Action: "transfer.create", ObjectID: tr.ID}); len(entries) != 1 {
			t.Fatal("transfer.create not audited")
		}
		if _, err := s.FindTransferByID(ctx, "nope"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("missing transfer: %v", err)
		}
	})
}
