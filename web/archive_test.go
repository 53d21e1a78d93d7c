package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

func TestArchiveAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, auditor, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Auditor), a.tokenFor(staff.Agent)
		a.importAndWait(admin, []byte("姓名,手机\n归档甲,13912340011\n归档乙,13912340012\n"))
		tr := &transfers.Transfer{SellerName: "甲", BuyerName: "乙", BuyerContact: "400", EffectiveDate: "2026-01-01",
			Purposes: []string{"售后"}, DataCategories: []string{"name"}, RetentionDays: 30}
		if err := a.transfers.CreateTransfer(ctx, tr, "test"); err != nil {
			t.Fatal(err)
		}
		if code := a.postJSON("/api/v1/transfers/"+tr.ID+"/archive", agent, ``, nil); code != http.StatusForbidden {
			t.Errorf("agent archiving: %d", code)
		}
		var run struct{ Archived int }
		if code := a.postJSON("/api/v1/transfers/"+tr.ID+"/archive", admin, ``, &run); code != http.StatusOK || run.Archived != 2 {
			t.Fatalf("archive: %d %+v", code, run)
		}
		var found struct {
			Data []struct {
				ArchiveNo      string `json:"archive_no"`
				Classification string `json:"classification"`
			} `json:"data"`
		}
		if code := a.getJSON("/api/v1/archive?transfer_id="+tr.ID+"&classification=no_response", auditor, &found); code != http.StatusOK || len(found.Data) != 2 {
			t.Fatalf("search: %d %+v", code, found)
		}
		resp := a.do(http.MethodGet, "/api/v1/transfers/"+tr.ID+"/archive-index", auditor, "", nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("index: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
