package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

// walkPages reads a list limit items a page, following next_cursor to the
// end, and returns the ids in order and the number of pages. Every page
// must hold limit items but the last, and an id must not come twice.
func (a *app) walkPages(path, token string, limit int) (ids []string, pages int) {
	a.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	seen := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Data       []struct{ ID string } `json:"data"`
			NextCursor *string               `json:"next_cursor"`
		}
		u := fmt.Sprintf("%s%slimit=%d&cursor=%s", path, sep, limit, url.QueryEscape(cursor))
		if code := a.getJSON(u, token, &page); code != http.StatusOK || page.NextCursor == nil {
			a.t.Fatalf("GET %s: %d, next_cursor %v; want 200 with a next_cursor", u, code, page.NextCursor)
		}
		pages++
		for _, it := range page.Data {
			if seen[it.ID] {
				a.t.Fatalf("GET %s: %s came twice", u, it.ID)
			}
			seen[it.ID] = true
			ids = append(ids, it.ID)
		}
		if *page.NextCursor == "" {
			return ids, pages
		}
		if len(page.Data) != limit {
			a.t.Fatalf("GET %s: %d items and a next cursor; want a full page of %d", u, len(page.Data), limit)
		}
		cursor = *page.NextCursor
		if pages > 100 {
			a.t.Fatalf("GET %s: no end after %d pages", path, pages)
		}
	}
}

// wantPaged walks path two items a page and wants n items on ceil(n/2)
// pages: more rows than one page, none lost at a page's edge.
func (a *app) wantPaged(path, token string, n int) []string {
	a.t.Helper()
	ids, pages := a.walkPages(path, token, 2)
	if len(ids) != n || pages != (n+1)/2 {
		a.t.Errorf("GET %s: %d items on %d pages; want %d on %d", path, len(ids), pages, n, (n+1)/2)
	}
	return ids
}

// TestListsPage: every list that can outgrow a page answers the one
// envelope and pages on with its cursor to the last row.
func TestListsPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin := a.tokenFor(staff.Admin)
		a.importAndWait(admin, []byte("姓名,手机\n甲,13800000001\n乙,13800000002\n丙,13800000003\n丁,13800000004\n戊,13800000005\n"))
		custs := a.wantPaged("/api/v1/customers", admin, 5)

		t.Run("tokens", func(t *testing.T) {
			me := struct{ Email string }{}
			a.getJSON("/api/v1/me", admin, &me)
			for i := range 4 {
				if _, err := a.staff.CreateAPIToken(ctx, me.Email, fmt.Sprint("t", i), "test"); err != nil {
					t.Fatal(err)
				}
			}
			a.wantPaged("/api/v1/tokens", admin, 5)
		})
		t.Run("devbox", func(t *testing.T) {
			for i := range 5 {
				a.devbox.Send(ctx, []channels.Message{{DeliveryID: fmt.Sprint("d", i), CustomerID: custs[0], Kind: channels.Notice,
					To: channels.Address{Phone: "+8613800000001"}, Text: "告知"}})
			}
			a.wantPaged("/api/v1/devbox/messages", admin, 5)
		})
		t.Run("incidents", func(t *testing.T) {
			for i := range 3 {
				body := fmt.Sprintf(`{"title":"事件%d","data_categories":["phone"],"cause":"c","measures":"m","contact":"400",
					"occurred_at":"2025-07-01T00:00:00Z","discovered_at":"2025-07-02T00:00:00Z"}`, i)
				if code := a.postJSON("/api/v1/incidents", admin, body, nil); code != http.StatusCreated {
					t.Fatalf("incident: %d", code)
				}
			}
			a.wantPaged("/api/v1/incidents", admin, 3)
		})
		t.Run("campaigns", func(t *testing.T) {
			var tr struct{ ID string }
			a.postJSON("/api/v1/transfers", admin, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
				"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
			var tpl struct{ ID string }
			if code := a.postJSON("/api/v1/templates", admin, `{"name":"n","kind":"generic","channel":"devbox","locale":"zh-CN","body":"你好"}`, &tpl); code != http.StatusCreated {
				t.Fatalf("template: %d", code)
			}
			for i := range 3 {
				body := fmt.Sprintf(`{"name":"c%d","transfer_id":%q,"kind":"generic","channels":["devbox"],"templates":{"devbox":%q}}`, i, tr.ID, tpl.ID)
				if code := a.postJSON("/api/v1/campaigns", admin, body, nil); code != http.StatusCreated {
					t.Fatalf("campaign: %d", code)
				}
			}
			a.wantPaged("/api/v1/campaigns", admin, 3)
			a.wantPaged("/api/v1/campaigns?status=draft", admin, 3)
		})
		t.Run("wechat-binds", func(t *testing.T) {
			for i, id := range custs[:3] {
				if _, err := a.customers.BindAddress(ctx, customers.Binding{CustomerID: id, Address: channels.Address{OpenID: fmt.Sprint("oOld", i)},
					Source: "import", Actor: "test"}); err != nil {
					t.Fatal(err)
				}
				if got, err := a.customers.ProposeWeChatBind(ctx, id, fmt.Sprint("oNew", i), "link"); err != nil || got != customers.WeChatQueued {
					t.Fatalf("propose: %s, %v", got, err)
				}
			}
			a.wantPaged("/api/v1/wechat-binds", admin, 3)
		})
		t.Run("corrections", func(t *testing.T) {
			for _, id := range custs[:3] {
				a.correction(id, "上海市")
			}
			a.wantPaged("/api/v1/corrections", admin, 3)
		})
		t.Run("training results", func(t *testing.T) {
			agent := a.tokenFor(staff.Agent)
			var mod struct{ ID string }
			body := `{"role":"agent","title":"保密基础","body":"只在需要时查看。","pass_score":100,
				"questions":[{"q":"可以外发客户名单吗？","options":["可以","不可以"],"answer":1}]}`
			if code := a.postJSON("/api/v1/training/modules", admin, body, &mod); code != http.StatusCreated {
				t.Fatalf("module: %d", code)
			}
			for _, answer := range []string{"0", "0", "1"} {
				if code := a.postJSON("/api/v1/training/modules/"+mod.ID+"/attempts", agent, `{"answers":[`+answer+`]}`, nil); code != http.StatusOK {
					t.Fatalf("attempt: %d", code)
				}
			}
			a.wantPaged("/api/v1/training/results", admin, 3)
		})
		t.Run("bad cursor", func(t *testing.T) {
			var e apiError
			if code := a.getJSON("/api/v1/campaigns?cursor=nope", admin, &e); code != http.StatusBadRequest {
				t.Fatalf("bad cursor: %d %+v; want 400", code, e)
			}
		})
	})
}
