package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestAccessReviewCSVEscapesFormulas: a staff email is a valid address to
// Handover and a formula to a spreadsheet; the review's CSV must not let a
// spreadsheet run it.
func TestAccessReviewCSVEscapesFormulas(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	admin, auditor := a.tokenFor(staff.Admin), a.tokenFor(staff.Auditor)
	if err := a.staff.CreateMember(context.Background(), &staff.Member{Email: "=1+2@example.com", Role: staff.Agent}, "", "test"); err != nil {
		t.Fatal(err)
	}
	var r struct{ ID string }
	if code := a.postJSON("/api/v1/access-reviews", admin, ``, &r); code != http.StatusCreated {
		t.Fatalf("start: %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/access-reviews/"+r.ID+"?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+auditor)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), ",'=1+2@example.com,") {
		t.Fatalf("the email is not escaped for spreadsheets:\n%s", b)
	}
}
