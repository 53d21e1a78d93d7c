package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

// A customer's time zone comes from the import's 时区 column, is shown by
// the API and the dashboard, and is changed with PATCH; a name that is not
// an IANA zone is a 400 that says so.
func TestCustomerTimeZone(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin := a.tokenFor(staff.Admin)
		if im := a.importAndWait(admin, []byte("姓名,手机,时区\n张三,13812345678,Asia/Shanghai\nHans,13912345678,Europe/Berlin\n")); im.Created != 2 {
			t.Fatalf("import = %+v", im)
		}
		all, _, err := a.customers.FindCustomers(t.Context(), customers.Filter{Limit: 5})
		if err != nil || len(all) != 2 {
			t.Fatal(err)
		}
		id := all[0].ID
		var cu struct {
			TimeZone string `json:"time_zone"`
		}
		if code := a.getJSON("/api/v1/customers/"+id, admin, &cu); code != http.StatusOK || cu.TimeZone != "Asia/Shanghai" {
			t.Fatalf("view: %d, %+v", code, cu)
		}
		patch := func(token, body string, out any) int {
			return a.do(http.MethodPatch, "/api/v1/customers/"+id, token, "application/json", strings.NewReader(body), out).StatusCode
		}
		if code := patch(a.tokenFor(staff.Marketer), `{"time_zone":"Europe/Berlin"}`, &cu); code != http.StatusOK || cu.TimeZone != "Europe/Berlin" {
			t.Fatalf("patch: %d, %+v", code, cu)
		}
		for _, body := range []string{`{"time_zone":"Berlin"}`, `{"time_zone":"Local"}`, `{"region":"上海"}`, `{}`} {
			var e apiError
			if code := patch(admin, body, &e); code != http.StatusBadRequest || e.Error.Code != "invalid" {
				t.Errorf("patch %s: %d, %+v; want 400 invalid", body, code, e.Error)
			}
		}
		var e apiError
		if patch(admin, `{"time_zone":"Mars/Olympus"}`, &e); !strings.Contains(e.Error.Message, "IANA") {
			t.Errorf("bad zone message %q does not say what a zone is", e.Error.Message)
		}
		if code := patch(a.tokenFor(staff.Agent), `{"time_zone":"UTC"}`, &e); code != http.StatusForbidden {
			t.Errorf("agent patch: %d, want 403", code)
		}
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		if _, body := w.get("/customers/" + id); !strings.Contains(body, `<dd id="customer-time-zone">Europe/Berlin</dd>`) {
			t.Errorf("customer page does not show the time zone:\n%s", body)
		}
	})
}
