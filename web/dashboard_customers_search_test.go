package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestMaskedRoleCannotUnmaskByNameSearch: a marketer sees names masked.
// A search for part of a name, answered hit or miss, once let them find a
// name a character at a time (张 hit, 张a miss, 张三 hit …); now only the
// whole name matches for a role without customers.reveal.
func TestMaskedRoleCannotUnmaskByNameSearch(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	a.importAndWait(a.tokenFor(staff.Admin), []byte(sampleCSV))
	_, email := a.staffMember(staff.Marketer, "marketer")
	w := a.newWebClient()
	w.login(email, testPassword)
	resp, body := w.get("/customers?q=" + url.QueryEscape("张"))
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "张*") || !strings.Contains(body, `id="whole-name"`) {
		t.Fatalf("a partial name found a customer for a masked role: %d\n%s", resp.StatusCode, body)
	}
	resp, body = w.get("/customers?q=" + url.QueryEscape("张三"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "张**") || strings.Contains(body, "张三<") {
		t.Fatalf("the whole name: %d\n%s", resp.StatusCode, body)
	}
}
