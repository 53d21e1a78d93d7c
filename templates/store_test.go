package templates_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

func newStores(t testing.TB, db *database.DB) (*templates.Store, *customers.Store) {
	t.Helper()
	cs := customers.NewStore(db, piitest.Vault(t, db))
	return templates.NewStore(db, cs, transfers.NewStore(db)), cs
}

// noticeBody is an approved Aliyun text: Aliyun fills its ${variables}.
const noticeBody = "尊敬的${name}：我司业务已转让给${buyer}，联系方式${contact}。详情及授权：https://h.example.cn/l/${code}"

func newNotice() *templates.Template {
	return &templates.Template{Name: "转让告知", Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN",
		Content: templates.Content{Body: noticeBody, SMS: templates.SMSMapping{SignName: "华东五金", Type: templates.SMSNotice, TemplateCode: "SMS_1",
			Params: map[string]string{"name": "{{.Customer.Name}}", "buyer": "{{.Transfer.BuyerName}}",
				"contact": "{{.Transfer.BuyerContact}}", "code": "{{.LinkToken}}"}}}}
}

func TestCreateUpdateKeepsVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newStores(t, db)
		tmpl := newNotice()
		if err := s.CreateTemplate(ctx, tmpl, "staff:m1"); err != nil {
			t.Fatal(err)
		}
		if tmpl.Version != 1 || tmpl.ID == "" || len(tmpl.Warnings) == 0 {
			t.Fatalf("created = %+v; want version 1 with a segments warning", tmpl)
		}
		upd := templates.Update{Name: "转让告知（短）", BaseVersion: 1, Content: tmpl.Content}
		upd.Content.Body = "${name}：已转给${buyer}，电话${contact}，https://h.example.cn/l/${code}"
		updated, err := s.UpdateTemplate(ctx, tmpl.ID, upd, "staff:m1")
		if err != nil {
			t.Fatal(err)
		}
		if updated.Version != 2 || updated.Name != "转让告知（短）" {
			t.Fatalf("updated = version %d name %q; want 2, new name", updated.Version, updated.Name)
		}
		// A stale edit is a conflict, not a silent overwrite.
		if _, err := s.UpdateTemplate(ctx, tmpl.ID, upd, "staff:m1"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("stale update: %v; want conflict", err)
		}
		v1, err := s.FindTemplateVersion(ctx, tmpl.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Render(ctx, *v1, templates.SampleData("zh-CN"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Text, "【华东五金】尊敬的张三：我司业务已转让给江南商贸集团") || r.Provider.Params["buyer"] != "江南商贸集团" {
			t.Fatalf("version 1 renders %q %v", r.Text, r.Provider)
		}
		latest, err := s.FindTemplateByID(ctx, tmpl.ID)
		if err != nil || latest.Version != 2 || latest.Body != upd.Content.Body {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		// An unknown variable is refused at save and names the variable.
		upd.BaseVersion, upd.Content.Body = 0, noticeBody
		upd.Content.SMS.Params = map[string]string{"name": "{{.Customer.Phone}}", "buyer": "{{.Transfer.BuyerName}}",
			"contact": "{{.Transfer.BuyerContact}}", "code": "{{.LinkToken}}"}
		_, err = s.UpdateTemplate(ctx, tmpl.ID, upd, "staff:m1")
		if handover.ErrorCode(err) != handover.EINVALID || !strings.Contains(handover.ErrorMessage(err), ".Customer.Phone") {
			t.Fatalf("unknown variable: %v", err)
		}
		if err := s.DeleteTemplate(ctx, tmpl.ID, "staff:m1"); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.FindTemplates(ctx, templates.Filter{}); len(list) != 0 {
			t.Fatalf("archived template still listed: %d", len(list))
		}
		if list, _ := s.FindTemplates(ctx, templates.Filter{IncludeArchived: true}); len(list) != 1 || !list[0].Archived {
			t.Fatalf("archived list = %v", list)
		}
		if _, err := s.FindTemplateVersion(ctx, tmpl.ID, 2); err != nil {
			t.Fatalf("archived template's versions must stay: %v", err)
		}
		var actions []string
		rows, _ := db.QueryContext(ctx, `SELECT action FROM audit_log WHERE object_id = $1 ORDER BY seq`, tmpl.ID)
		for rows.Next() {
			var a string
			rows.Scan(&a)
			actions = append(actions, a)
		}
		rows.Close()
		if strings.Join(actions, ",") != "template.create,template.update,template.archive" {
			t.Fatalf("audit = %v", actions)
		}
		if rep, err := audit.Verify(ctx, db); err != nil || !rep.OK() {
			t.Fatalf("audit chain: %+v %v", rep, err)
		}
	})
}

func TestInstallDefaultsIsIdempotentAndEveryDefaultRenders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newStores(t, db)
		n, err := s.InstallDefaults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := len(templates.Kinds) * len(templates.Channels) * len(templates.Locales)
		if n != want {
			t.Fatalf("installed %d; want %d", n, want)
		}
		if n, err := s.InstallDefaults(ctx); err != nil || n != 0 {
			t.Fatalf("second install added %d, %v; want 0", n, err)
		}
		list, err := s.FindTemplates(ctx, templates.Filter{Locale: "zh-CN", Channel: channels.SMS})
		if err != nil || len(list) != len(templates.Kinds) {
			t.Fatalf("zh-CN SMS defaults = %d, %v", len(list), err)
		}
		all, _ := s.FindTemplates(ctx, templates.Filter{})
		for _, tmpl := range all {
			r, err := s.Render(ctx, tmpl.Latest(), templates.SampleData(tmpl.Locale))
			if err != nil {
				t.Errorf("%s: %v", tmpl.DefaultKey, err)
				continue
			}
			if strings.Contains(r.Text+r.HTML+r.Subject, "<no value>") || r.Text == "" {
				t.Errorf("%s renders %q", tmpl.DefaultKey, r.Text)
			}
			if tmpl.Channel == channels.Email && (r.Subject == "" || !strings.Contains(r.HTML, `href="https://h.example.cn/l/`)) {
				t.Errorf("%s: subject %q html %q", tmpl.DefaultKey, r.Subject, r.HTML)
			}
			if tmpl.Channel == channels.SMS && (!strings.Contains(r.Text, templates.SampleData(tmpl.Locale).Link) || r.Provider == nil || len(r.Provider.Params) == 0) {
				t.Errorf("%s: text %q provider %+v", tmpl.DefaultKey, r.Text, r.Provider)
			}
		}
	})
}

func TestPreviewWithImportedCustomerAndTransfer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, cs := newStores(t, db)
		path := filepath.Join(t.TempDir(), "customers.csv")
		csv := "姓名,手机,公司\n张三丰,13812345678,武当贸易\n李四,13900001111,\n"
		if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		im := importer.New(cs, t.TempDir(), nil)
		if _, err := im.Run(ctx, path, nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		list, _, err := cs.FindCustomers(ctx, customers.Filter{Limit: 10})
		if err != nil || len(list) != 2 {
			t.Fatalf("customers = %d, %v", len(list), err)
		}
		byName := map[string]string{}
		for _, c := range list {
			byName[c.Name] = c.ID
		}
		tr := &transfers.Transfer{SellerName: "华东五金批发", BuyerName: "江南商贸", BuyerContact: "400-800-1234",
			EffectiveDate: "2025-07-01", Purposes: []string{"订单履行", "售后服务"}, DataCategories: []string{"name", "phone"}, RetentionDays: 365}
		if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "cli"); err != nil {
			t.Fatal(err)
		}
		tmpl := newNotice()
		tmpl.Body = "${company}的" + noticeBody
		tmpl.SMS.Params["company"] = "{{.Customer.Company}}"
		if err := s.CreateTemplate(ctx, tmpl, "staff:m1"); err != nil {
			t.Fatal(err)
		}
		p, err := s.Preview(ctx, tmpl.ID, templates.PreviewInput{CustomerID: byName["张三丰"], TransferID: tr.ID}, "staff:m1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(p.Text, "张三丰") || !strings.Contains(p.Text, "江南商贸") || !strings.Contains(p.Text, "400-800-1234") {
			t.Fatalf("preview text %q: want the transfer's buyer and the customer's name masked", p.Text)
		}
		wantChars, wantSegs := templates.SMSSegments("华东五金", "武当贸易的尊敬的张三丰：我司业务已转让给江南商贸，联系方式400-800-1234。详情及授权：https://h.example.cn/l/0n7c2aqAb3dE6gH9jK")
		if p.Chars != wantChars || p.Segments != wantSegs || p.Segments < 2 || len(p.Warnings) == 0 {
			t.Fatalf("preview = %d chars %d segments %q; want %d, %d with a warning", p.Chars, p.Segments, p.Warnings, wantChars, wantSegs)
		}
		// 李四 has no company, which the template prints: an error naming
		// the variable, not a message with a hole in it.
		_, err = s.Preview(ctx, tmpl.ID, templates.PreviewInput{CustomerID: byName["李四"]}, "staff:m1")
		if handover.ErrorCode(err) != handover.EINVALID || !strings.Contains(handover.ErrorMessage(err), ".Customer.Company") {
			t.Fatalf("missing company: %v", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'template.preview'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d preview audit entries; want 1", n)
		}
		if _, err := s.Preview(ctx, "nope", templates.PreviewInput{}, "staff:m1"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("unknown template: %v", err)
		}
	})
}
