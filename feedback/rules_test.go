package feedback_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/transfers"
)

// TestOptOutKeyword: "TD" opts the customer out of promotional messages
// and surveys on the channel they wrote on, closes a ticket silently (the
// queue stays empty) and confirms, saying exactly what stopped and that
// the required notices still come; by SMS through the reply template.
func TestOptOutKeyword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.Devbox, "张三", " ＴＤ。")
		var kinds []string
		rows, err := db.QueryContext(ctx, `SELECT channel || ':' || kind || ':' || source FROM channel_optouts WHERE customer_id = $1 ORDER BY kind`,
			e.customer("张三"))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			rows.Scan(&k)
			kinds = append(kinds, k)
		}
		rows.Close()
		if strings.Join(kinds, " ") != "devbox:promotional:reply devbox:survey:reply" {
			t.Fatalf("opt-out rows %v", kinds)
		}
		if queue, _, _ := e.svc.FindTickets(ctx, feedback.Filter{}); len(queue) != 0 {
			t.Fatalf("an opt-out entered the queue: %+v", queue[0])
		}
		list := e.tickets("张三")
		if len(list) != 1 || list[0].Status != feedback.StatusClosed || list[0].Category != feedback.CategoryOptOut {
			t.Fatalf("tickets %+v", list)
		}
		sent, err := e.box.Find(ctx, "", 10)
		if err != nil || len(sent) != 1 || sent[0].CustomerID != e.customer("张三") {
			t.Fatalf("confirmation: %d messages, %v", len(sent), err)
		}
		if want := feedback.OptOutConfirmation(channels.Devbox, "zh-CN"); sent[0].Text != want ||
			!strings.Contains(want, "测试通道的推广消息和满意度调查") || !strings.Contains(want, "仍会收到服务通知") || !strings.Contains(want, "安全事件") {
			t.Fatalf("confirmation %q", sent[0].Text)
		}
		v := e.view(list[0].ID)
		if len(v.Messages) != 2 || v.Messages[1].Direction != feedback.DirectionOut || v.Messages[1].DeliveryStatus != "sent" {
			t.Fatalf("conversation %q", texts(v))
		}
		if e.auditCount("customer.opt_out", e.customer("张三")) != 1 {
			t.Fatal("opt-out not audited")
		}
		e.message(channels.Devbox, "张三", "TD")
		if e.auditCount("customer.opt_out", e.customer("张三")) != 1 {
			t.Fatal("a repeated opt-out audited again")
		}
		// "T" inside a sentence is no opt-out; an SMS opt-out is confirmed
		// through the reply template, in the customer's words.
		fake := smsfake.New(t)
		sc, err := sms.New(fake.Config())
		if err != nil {
			t.Fatal(err)
		}
		e.svc = e.service(map[channels.Name]channels.Channel{channels.Devbox: e.box, channels.SMS: sc}, "SMS_REPLY_1")
		e.message(channels.SMS, "李四", "T恤的尺码不对")
		e.message(channels.SMS, "王五", "退订")
		msgs := fake.Messages()
		if len(msgs) != 1 || msgs[0].Phone != "13700002222" || msgs[0].TemplateCode != "SMS_REPLY_1" ||
			msgs[0].Params["content"] != feedback.OptOutConfirmation(channels.SMS, "zh-CN") || !strings.Contains(msgs[0].Params["content"], "短信的推广消息") {
			t.Fatalf("SMS confirmation %+v", msgs)
		}
		if l := e.tickets("李四"); len(l) != 1 || l[0].Status != feedback.StatusNew {
			t.Fatalf("李四's message: %+v", l)
		}
		if got, _ := e.cs.OptOuts(ctx, e.customer("王五")); len(got) != 2 || got[0] != (customers.OptOut{Channel: channels.SMS, Kind: customers.OptOutPromotional}) ||
			got[1] != (customers.OptOut{Channel: channels.SMS, Kind: customers.OptOutSurvey}) {
			t.Fatalf("王五's opt-outs %v", got)
		}
		en := feedback.OptOutConfirmation(channels.Email, "en")
		if !strings.Contains(en, "no longer get promotional messages and surveys by email") || !strings.Contains(en, "You still get service messages") {
			t.Fatalf("English confirmation %q", en)
		}
	})
}

// TestConsentWord: "同意" answering a consent request records consent for
// the transfer's purposes with the reply as evidence; "不同意" declines;
// "同意" answering no consent request is an ordinary message.
func TestConsentWord(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸", BuyerContact: "400-800-1234", EffectiveDate: "2026-12-01",
			Purposes: []string{"订单履行", "售后服务"}, DataCategories: []string{"name", "phone"}, RetentionDays: 90}
		if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "cli"); err != nil {
			t.Fatal(err)
		}
		now := db.Now()
		_, err := db.ExecContext(ctx, `INSERT INTO campaigns (id, name, transfer_id, kind, status, channels, template_ids, created_by, created_at, updated_at)
			VALUES ('c1', 'consent', $1, 'consent_request', 'completed', 'sms', '{}', 'staff:test', $2, $2),
			('c2', 'notice', $1, 'transfer_notice', 'completed', 'sms', '{}', 'staff:test', $2, $2)`, tr.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, `INSERT INTO deliveries (id, campaign_id, customer_id, batch, channel, status, updated_at)
			VALUES ('d1', 'c1', $1, 0, 'sms', 'delivered', $4), ('d2', 'c1', $2, 0, 'sms', 'delivered', $4), ('d3', 'c2', $3, 0, 'sms', 'delivered', $4)`,
			e.customer("张三"), e.customer("李四"), e.customer("王五"), now)
		if err != nil {
			t.Fatal(err)
		}
		e.message(channels.SMS, "张三", "同意！", delivery("d1"))
		e.message(channels.SMS, "李四", "不同意", delivery("d2"))
		e.message(channels.SMS, "王五", "同意", delivery("d3"))
		for name, want := range map[string]string{"张三": customers.ConsentGranted, "李四": customers.ConsentDeclined} {
			state, err := e.cs.ConsentState(ctx, e.customer(name), tr.ID)
			if err != nil || state["订单履行"] != want || state["售后服务"] != want {
				t.Fatalf("%s consent %v, %v", name, state, err)
			}
			hist, _ := e.cs.ConsentHistory(ctx, e.customer(name))
			if len(hist) != 2 || hist[0].Source != customers.SourceReply || hist[0].UserAgent == "" {
				t.Fatalf("%s ledger %+v", name, hist)
			}
			if l := e.tickets(name); len(l) != 1 || l[0].Status != feedback.StatusClosed || l[0].Category != feedback.CategoryConsent {
				t.Fatalf("%s tickets %+v", name, l)
			}
		}
		if state, _ := e.cs.ConsentState(ctx, e.customer("王五"), tr.ID); len(state) != 0 {
			t.Fatalf("a reply to a notice recorded consent: %v", state)
		}
		if l := e.tickets("王五"); len(l) != 1 || l[0].Status != feedback.StatusNew || l[0].Category != feedback.CategoryGeneral {
			t.Fatalf("王五's tickets %+v", l)
		}
	})
}

// TestRulesEditable: admins add rules that run in order; bad rules are refused.
func TestRulesEditable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		rules, err := e.svc.FindRules(ctx)
		if err != nil || len(rules) != 5 || rules[0].Action != feedback.ActionOptOut {
			t.Fatalf("default rules: %+v, %v", rules, err)
		}
		r := &feedback.Rule{Ordinal: 5, Name: "Invoices", Keywords: []string{"发票", "invoice"}, Match: feedback.MatchContains,
			Action: feedback.ActionCategorize, Category: "invoice", Priority: feedback.PriorityUrgent, Enabled: true}
		if err := e.svc.SaveRule(ctx, r, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		e.message(channels.Email, "李四", "Where is my INVOICE?")
		if l := e.tickets("李四"); len(l) != 1 || l[0].Category != "invoice" || l[0].Priority != feedback.PriorityUrgent {
			t.Fatalf("tickets %+v", l)
		}
		r.Enabled = false
		if err := e.svc.SaveRule(ctx, r, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		e.message(channels.Email, "王五", "发票呢")
		if l := e.tickets("王五"); len(l) != 1 || l[0].Category != feedback.CategoryGeneral {
			t.Fatalf("disabled rule applied: %+v", l)
		}
		for _, bad := range []feedback.Rule{
			{Name: "", Keywords: []string{"x"}, Match: "exact", Action: "opt_out"},
			{Name: "n", Keywords: []string{" "}, Match: "exact", Action: "opt_out"},
			{Name: "n", Keywords: []string{"x"}, Match: "regex", Action: "opt_out"},
			{Name: "n", Keywords: []string{"x"}, Match: "exact", Action: "consent", Decision: "maybe"},
			{Name: "n", Keywords: []string{"x"}, Match: "exact", Action: "categorize", Category: "Bad!"},
			{Name: "n", Keywords: []string{"x"}, Match: "exact", Action: "delete_customer"},
		} {
			if err := e.svc.SaveRule(ctx, &bad, "staff:admin"); handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("rule %+v: %v", bad, err)
			}
		}
		if err := e.svc.DeleteRule(ctx, r.ID, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteRule(ctx, r.ID, "staff:admin"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// TestNormalize is a table of what rules compare.
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"TD": "td", " ＴＤ。": "td", "退订！": "退订", "STOP\n": "stop", "「同意」": "同意", "T恤": "t恤", "": "", "？？": "",
		"Unsubscribe please": "unsubscribe please",
	} {
		if got := feedback.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRuleMatch: normalizing and matching any text never panics, an exact
// rule matches only the whole (normalized) keyword, and a contains rule
// matches whatever an exact rule with the same keywords matches.
func FuzzRuleMatch(f *testing.F) {
	for _, s := range []string{"TD", "退订", "我要投诉", "不同意", "ＳＴＯＰ!!", "t", "\xff\xfe", "地址变更：上海市"} {
		f.Add(s, "td")
	}
	f.Fuzz(func(t *testing.T, text, keyword string) {
		norm := feedback.Normalize(text)
		if feedback.Normalize(norm) != norm {
			t.Skip() // Unicode case mappings that are not idempotent are no concern here
		}
		exact := feedback.Rule{Keywords: []string{keyword}, Match: feedback.MatchExact, Enabled: true}
		contains := feedback.Rule{Keywords: []string{keyword}, Match: feedback.MatchContains, Enabled: true}
		if exact.Matches(norm) {
			if norm != feedback.Normalize(keyword) {
				t.Fatalf("exact rule %q matched %q", keyword, text)
			}
			if !contains.Matches(norm) {
				t.Fatalf("contains rule %q missed %q", keyword, text)
			}
		}
	})
}
