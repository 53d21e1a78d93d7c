package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web"
)

// providerApp is the server with Aliyun SMS and WeChat on the real SDKs,
// pointed at the fake providers, and a campaign worker.
type providerApp struct {
	*app
	sms       *smsfake.Server
	wechat    *wechatfake.Server
	campaigns *campaigns.Service
	transfer  string
	marketer  string
}

const portalURL = "https://handover.test"

func newProviderApp(t *testing.T, db *database.DB) *providerApp {
	t.Helper()
	p := &providerApp{sms: smsfake.New(t), wechat: wechatfake.New(t)}
	q := queuetest.Open(t)
	sc, err := sms.New(p.sms.Config())
	if err != nil {
		t.Fatal(err)
	}
	wc, err := wechat.New(wechat.Config{AppID: p.wechat.AppID, AppSecret: p.wechat.AppSecret, Token: p.wechat.Token,
		APIBase: p.wechat.URL(), HTTPTimeout: 2 * time.Second}, q.Redis, "handover:test:")
	if err != nil {
		t.Fatal(err)
	}
	chans := map[channels.Name]channels.Channel{channels.SMS: sc, channels.WeChat: wc}
	p.app = newAppWith(t, db, q, func(d *web.Deps) {
		// As serve wires it: the default SMS texts link to this server.
		d.Templates.SetPortalURL(d.Config.PublicURL)
		p.campaigns = campaigns.New(campaigns.Config{DB: d.DB, Transfers: d.Transfers, Queue: q, Customers: d.Customers, Templates: d.Templates,
			Channels: chans, PublicURL: d.Config.PublicURL, BatchSize: 2})
		d.Campaigns, d.SMS, d.WeChat = p.campaigns, sc, wc
	}, "HANDOVER_PUBLIC_URL="+portalURL)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "list.csv")
	csv := "姓名,手机,微信\n张三,13812345678,oOPENID-1\n李四,13900001111,oOPENID-2\n王五,13700002222,oOPENID-3\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.importer.Run(ctx, path, nil, "cli", nil); err != nil {
		t.Fatal(err)
	}
	tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸", BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
		Purposes: []string{"订单履行"}, DataCategories: []string{"name", "phone"}, RetentionDays: 90}
	if err := p.transfers.CreateTransfer(ctx, tr, "cli"); err != nil {
		t.Fatal(err)
	}
	p.transfer, p.marketer = tr.ID, p.tokenFor(staff.Marketer)
	if _, err := p.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	srv := q.NewServer(queue.ServerConfig{Queues: campaigns.Queues(chans), TaskCheckInterval: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	mux := asynq.NewServeMux()
	p.campaigns.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return p
}

// defaultTemplate is the shipped zh-CN default of kind on ch.
func (p *providerApp) defaultTemplate(kind templates.Kind, ch channels.Name) *templates.Template {
	p.t.Helper()
	list, err := p.templates.FindTemplates(context.Background(), templates.Filter{Kind: kind, Channel: ch, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		p.t.Fatalf("default %s %s template: %d, %v", kind, ch, len(list), err)
	}
	return list[0]
}

// setProviderID sets an SMS template's code or a WeChat template's id
// through the API, as staff do once the provider approved it.
func (p *providerApp) setProviderID(t *templates.Template, id string) {
	p.t.Helper()
	c := t.Content
	if t.Channel == channels.SMS {
		c.SMS.TemplateCode = id
	} else {
		c.WeChat.TemplateID = id
	}
	if _, err := p.templates.UpdateTemplate(context.Background(), t.ID, templates.Update{Content: c}, "staff:test"); err != nil {
		p.t.Fatal(err)
	}
}

// runCampaign creates and starts a campaign on one channel through the API
// and waits for it to complete.
func (p *providerApp) runCampaign(kind templates.Kind, ch channels.Name, templateID string) {
	p.t.Helper()
	var c campaignResp
	body := fmt.Sprintf(`{"name":"告知","transfer_id":%q,"kind":%q,"channels":[%q],"templates":{%q:%q}}`, p.transfer, kind, ch, ch, templateID)
	if code := p.postJSON("/api/v1/campaigns", p.marketer, body, &c); code != http.StatusCreated {
		p.t.Fatalf("create: %d", code)
	}
	if code := p.postJSON("/api/v1/campaigns/"+c.ID+"/start", p.marketer, "", &c); code != http.StatusOK {
		p.t.Fatalf("start: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); c.Status != "completed"; time.Sleep(20 * time.Millisecond) {
		p.getJSON("/api/v1/campaigns/"+c.ID, p.marketer, &c)
		if time.Now().After(deadline) {
			p.t.Fatalf("campaign not completed: %+v", c)
		}
	}
	if c.Counts["sent"] != 3 {
		p.t.Fatalf("counts %v; want 3 sent", c.Counts)
	}
}

// openLink checks that token is a working personal link of the customer
// reached at want (phone or openid): the portal opens it.
func (p *providerApp) openLink(token, want string) {
	p.t.Helper()
	ctx := context.Background()
	l, err := p.links.Resolve(ctx, token)
	if err != nil {
		p.t.Fatalf("link %q: %v", token, err)
	}
	cu, err := p.customers.FindCustomerByID(ctx, l.CustomerID)
	if err != nil || (cu.Phone != "+86"+want && cu.WeChatOpenID != want) {
		p.t.Fatalf("link of %s sent to %s (%v)", l.CustomerID, want, err)
	}
	resp, err := http.Get(p.url + "/l/" + token)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("opening the link: %d", resp.StatusCode)
	}
}

// TestSMSCampaignCarriesEachCustomersLink runs the shipped default SMS
// transfer notice, filed with Aliyun as its description says, through the
// real SDK against the fake: every message's TemplateParam carries that
// customer's token, the text the phone shows holds the working link, and
// no message says "回T退订" (Aliyun refuses opt-out wording in notices).
func TestSMSCampaignCarriesEachCustomersLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newProviderApp(t, db)
		tmpl := p.defaultTemplate(templates.TransferNotice, channels.SMS)
		if !strings.Contains(tmpl.Description, tmpl.Body) || !strings.Contains(tmpl.Body, portalURL+"/l/${code}") {
			t.Fatalf("default description %q does not give the text %q to file", tmpl.Description, tmpl.Body)
		}
		// Without its code the campaign is refused at once, naming the
		// template and what is missing.
		var e apiError
		body := fmt.Sprintf(`{"name":"告知","transfer_id":%q,"kind":"transfer_notice","channels":["sms"],"templates":{"sms":%q}}`, p.transfer, tmpl.ID)
		if code := p.postJSON("/api/v1/campaigns", p.marketer, body, &e); code != http.StatusBadRequest ||
			!strings.Contains(e.Error.Message, tmpl.Name) || !strings.Contains(e.Error.Message, "template code") {
			t.Fatalf("campaign on a template without code: %d %q", code, e.Error.Message)
		}
		p.sms.AddTemplate(smsfake.Template{Code: "SMS_900", Name: "转让告知", Type: 1, Content: tmpl.Body})
		// Staff see the account's approved templates to pick the code.
		var approved struct{ Data []sms.ApprovedTemplate }
		if code := p.getJSON("/api/v1/sms/templates", p.marketer, &approved); code != http.StatusOK || len(approved.Data) != 1 ||
			approved.Data[0].Code != "SMS_900" || approved.Data[0].Text != tmpl.Body || approved.Data[0].Type != "notice" || !approved.Data[0].Approved {
			t.Fatalf("approved templates: %d %+v", code, approved)
		}
		if code := p.getJSON("/api/v1/sms/templates", p.tokenFor(staff.Agent), nil); code != http.StatusForbidden {
			t.Fatalf("agent listing Aliyun templates: %d; want 403", code)
		}
		p.setProviderID(tmpl, "SMS_900")
		p.runCampaign(templates.TransferNotice, channels.SMS, tmpl.ID)

		msgs := p.sms.Messages()
		if len(msgs) != 3 {
			t.Fatalf("%d messages; want 3", len(msgs))
		}
		for _, m := range msgs {
			token := m.Params["code"]
			if token == "" || !strings.Contains(m.Text, portalURL+"/l/"+token) || !strings.Contains(m.Text, "江南商贸") ||
				!strings.Contains(m.Text, "400-800-1234") || strings.Contains(m.Text, "退订") {
				t.Fatalf("message %+v: want the buyer, the contact and the link, no opt-out wording", m)
			}
			p.openLink(token, m.Phone)
		}
	})
}

// TestWeChatCampaignCarriesEachCustomersLink runs the shipped default
// WeChat transfer notice through the real SDK against the fake: every
// template message's url is that customer's working link.
func TestWeChatCampaignCarriesEachCustomersLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newProviderApp(t, db)
		tmpl := p.defaultTemplate(templates.TransferNotice, channels.WeChat)
		var e apiError
		body := fmt.Sprintf(`{"name":"告知","transfer_id":%q,"kind":"transfer_notice","channels":["wechat"],"templates":{"wechat":%q}}`, p.transfer, tmpl.ID)
		if code := p.postJSON("/api/v1/campaigns", p.marketer, body, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "template id") {
			t.Fatalf("campaign on a template without id: %d %q", code, e.Error.Message)
		}
		p.setProviderID(tmpl, "TPL-transfer-1")
		// Preview shows the fields as WeChat lays them out, the link last.
		var pv struct{ Card string }
		if code := p.postJSON("/api/v1/templates/"+tmpl.ID+"/preview", p.marketer, `{"transfer_id":"`+p.transfer+`"}`, &pv); code != http.StatusOK ||
			!strings.Contains(pv.Card, "keyword1: 江南商贸\n") || !strings.HasSuffix(pv.Card, "详情 › "+templates.SampleLink) {
			t.Fatalf("preview card: %d %q", code, pv.Card)
		}
		p.runCampaign(templates.TransferNotice, channels.WeChat, tmpl.ID)

		sent := p.wechat.Sent()
		if len(sent) != 3 {
			t.Fatalf("%d messages; want 3", len(sent))
		}
		for _, m := range sent {
			token, ok := strings.CutPrefix(m.URL, portalURL+"/l/")
			if m.API != "template" || !ok || m.TemplateID != "TPL-transfer-1" || m.Data["keyword1"] != "江南商贸" {
				t.Fatalf("message %+v: want the link as url and the buyer", m)
			}
			p.openLink(token, m.ToUser)
		}
	})
}

// TestIncidentNoticeOpensTheIncidentPage drafts the notice of an incident
// by SMS on the shipped default: refused while the template has no code,
// then drafted with a warning for the customer SMS cannot reach; each
// message's link opens the incident page (Art. 57), not the transfer notice.
func TestIncidentNoticeOpensTheIncidentPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newProviderApp(t, db)
		ctx := context.Background()
		admin := p.tokenFor(staff.Admin)
		p.importAndWait(admin, []byte("姓名,邮箱\n赵六,zhao@example.com\n"))
		ids, err := p.db.QueryIDs(ctx, `SELECT id FROM customers ORDER BY id`)
		if err != nil || len(ids) != 4 {
			t.Fatalf("customers: %v, %v", ids, err)
		}
		var in struct{ ID string }
		body := fmt.Sprintf(`{"title":"备份硬盘遗失","data_categories":["name","phone"],"cause":"一块含客户名单的备份硬盘在搬迁中遗失。",
			"measures":"已报警并更换相关系统密码。","contact":"数据保护负责人 021-12345678","occurred_at":"2026-11-01T08:00:00Z",
			"discovered_at":"2026-11-02T08:00:00Z","customer_ids":["%s","%s","%s"]}`, ids[0], ids[1], ids[3])
		if code := p.postJSON("/api/v1/incidents", admin, body, &in); code != http.StatusCreated {
			t.Fatalf("record incident: %d", code)
		}
		tmpl := p.defaultTemplate(templates.IncidentNotice, channels.SMS)
		notice := "/api/v1/incidents/" + in.ID + "/notice"
		req := fmt.Sprintf(`{"transfer_id":%q,"channels":["sms"]}`, p.transfer)
		var e apiError
		if code := p.postJSON(notice, admin, req, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, tmpl.Name) {
			t.Fatalf("notice on a template without code: %d %q", code, e.Error.Message)
		}
		p.sms.AddTemplate(smsfake.Template{Code: "SMS_901", Type: 1, Content: tmpl.Body})
		p.setProviderID(tmpl, "SMS_901")
		var cp struct {
			ID       string
			Warnings []string
		}
		if code := p.postJSON(notice, admin, req, &cp); code != http.StatusCreated || len(cp.Warnings) != 2 ||
			!strings.HasPrefix(cp.Warnings[0], "sms: 1 of 3") || !strings.Contains(cp.Warnings[1], "reaches 1 of 3") {
			t.Fatalf("notice: %d %+v", code, cp)
		}
		var c campaignResp
		if code := p.postJSON("/api/v1/campaigns/"+cp.ID+"/start", p.marketer, "", &c); code != http.StatusOK {
			t.Fatalf("start: %d", code)
		}
		for deadline := time.Now().Add(20 * time.Second); c.Status != "completed"; time.Sleep(20 * time.Millisecond) {
			p.getJSON("/api/v1/campaigns/"+c.ID, p.marketer, &c)
			if time.Now().After(deadline) {
				t.Fatalf("notice not completed: %+v", c)
			}
		}
		msgs := p.sms.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages; want the 2 affected customers with a phone", len(msgs))
		}
		for _, m := range msgs {
			if !strings.Contains(m.Text, portalURL+"/l/"+m.Params["code"]) || strings.Contains(m.Text, "退订") {
				t.Fatalf("message %+v", m)
			}
			resp, err := http.Get(p.url + "/l/" + m.Params["code"])
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, resp)
			for _, want := range []string{"个人信息安全事件告知", "备份硬盘遗失", "已报警并更换相关系统密码", "数据保护负责人 021-12345678", "姓名、手机号码"} {
				if !strings.Contains(page, want) {
					t.Fatalf("incident page lacks %q:\n%s", want, page)
				}
			}
			if resp.StatusCode != http.StatusOK || strings.Contains(page, "江南商贸") {
				t.Fatalf("incident page: %d, shows the transfer's buyer", resp.StatusCode)
			}
		}
	})
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
