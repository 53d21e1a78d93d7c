package assessments_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestAssessmentApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := db.Now()
		if _, err := db.ExecContext(ctx, `INSERT INTO transfers (id, seller_name, buyer_name, buyer_contact, effective_date, purposes,
			data_categories, retention_days, created_by, created_at) VALUES ('t1', 'a', 'b', 'c', '2026-03-01', '营销,售后', 'name', 30, 'x', $1)`, now); err != nil {
			t.Fatal(err)
		}
		s := assessments.NewStore(db)
		purposes := []string{"营销", "售后"}
		if err := s.Require(ctx, "t1", assessments.ActivityExport, []string{"营销"}); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Fatalf("no assessment: %v", err)
		}
		a := &assessments.Assessment{TransferID: "t1", Activity: assessments.ActivityExport, Purpose: "营销",
			Necessity: "买方需继续服务客户", Risks: "名单外泄", Measures: "加密交付，仅含同意客户"}
		if err := s.Create(ctx, &assessments.Assessment{TransferID: "t1", Activity: "export", Purpose: "卖数据", Necessity: "n", Risks: "r", Measures: "m"},
			purposes, "staff:dpo"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("purpose outside the transfer: %v", err)
		}
		if err := s.Create(ctx, a, purposes, "staff:dpo"); err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, a.ID, true, "staff:dpo"); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("approving your own: %v", err)
		}
		if err := s.Require(ctx, "t1", assessments.ActivityExport, []string{"营销"}); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("a draft counts: %v", err)
		}
		if err := s.Decide(ctx, a.ID, true, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, a.ID, false, "staff:admin"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("deciding twice: %v", err)
		}
		if err := s.Require(ctx, "t1", assessments.ActivityExport, []string{"营销"}); err != nil {
			t.Errorf("approved: %v", err)
		}
		if err := s.Require(ctx, "t1", assessments.ActivityExport, purposes); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("a second purpose without one: %v", err)
		}
		list, err := s.FindAssessments(ctx, "t1")
		if err != nil || len(list) != 1 || list[0].RetainUntil == nil || list[0].RetainUntil.Sub(*list[0].ApprovedAt) < assessments.Retention {
			t.Fatalf("list = %+v, %v", list, err)
		}
	})
}
