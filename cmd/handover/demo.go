package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/templates"
)

// Made-up names for the demo list: surnames and given names that make
// plausible people, none real.
var (
	demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"}
	demoGiven    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"}
	demoRegions  = []string{"上海", "杭州", "南京", "苏州", "宁波", "合肥"}
	demoTrades   = []string{"五金", "建材", "电器", "日化", "食品", "纺织"}
)

// runDemo fills an empty embedded installation with a made-up customer
// list, a transfer and a draft transfer-notice campaign on the devbox, so
// a newcomer sees every screen with data. Run `handover serve` after it.
func runDemo(ctx context.Context, m *Main, args []string) error {
	fs := newFlags(m, "demo", "demo [--customers N]")
	n := fs.Int("customers", 200, "how many made-up customers to import (1 to 100,000)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > 100_000 {
		fs.Usage()
		return errUsage
	}
	if err := m.loadConfig(); err != nil {
		return err
	}
	if !m.Config.Embedded() {
		return fmt.Errorf("demo fills the embedded SQLite database only; unset HANDOVER_DATABASE_URL")
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	if err := m.OpenServices(ctx); err != nil {
		return err
	}
	if _, err := m.Templates.InstallDefaults(ctx); err != nil {
		return err
	}
	path, err := writeDemoCSV(m.Config.DataDir, *n)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	im, err := m.Importer.Run(ctx, path, nil, "cli", nil)
	if err != nil {
		return err
	}
	tr := &customers.Transfer{SellerName: "上海示例五金贸易有限公司", BuyerName: "杭州示例商贸有限公司", BuyerContact: "400-800-0000（客服）",
		EffectiveDate: "2026-12-31", Purposes: []string{"订单履约", "售后服务", "新品推荐"},
		DataCategories: []string{"name", "phone", "email", "company", "region"}, RetentionDays: 365}
	if err := m.Customers.CreateTransfer(ctx, tr, "cli"); err != nil {
		return err
	}
	c, err := m.demoCampaign(ctx, tr.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, `demo data ready:
  customers:  %d imported (import %s)
  transfer:   %s
  campaign:   %s (draft, transfer notice over the devbox)

Start Handover with 'make run' (or 'handover serve'). A fresh installation is
closed to customer data: sign in as the first admin, accept the agreement at
%s/agreement and pass the training at %s/training (or use
the API: GET /api/v1/agreement, POST /api/v1/agreement/accept). Then send the notice:
  curl -X POST -H "Authorization: Bearer hov_…" %s/api/v1/campaigns/%s/start
and read what customers would receive: GET /api/v1/devbox/messages
`, im.Created, im.ID, tr.ID, c.ID, m.Config.PublicURL, m.Config.PublicURL, m.Config.PublicURL, c.ID)
	return nil
}

func writeDemoCSV(dir string, n int) (string, error) {
	var b strings.Builder
	b.WriteString("姓名,手机,邮箱,公司,地区,标签\n")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		s, g := demoSurnames[r.IntN(len(demoSurnames))], demoGiven[r.IntN(len(demoGiven))]
		region, trade := demoRegions[r.IntN(len(demoRegions))], demoTrades[r.IntN(len(demoTrades))]
		tag := "零售"
		if i%3 == 0 {
			tag = "批发"
		}
		fmt.Fprintf(&b, "%s%s,1390000%04d,demo%d@example.com,%s%s%s商行,%s,%s\n", s, g, i%10000, i, region, s, trade, region, tag)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "demo-customers.csv")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// demoCampaign drafts the transfer notice over the devbox with the
// default zh-CN template.
func (m *Main) demoCampaign(ctx context.Context, transferID string) (*campaigns.Campaign, error) {
	list, err := m.Templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("demo: the default devbox transfer-notice template is missing")
	}
	c := &campaigns.Campaign{Name: "客户信息转移告知（演示）", TransferID: transferID, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: list[0].ID}}
	return c, m.Campaigns.Create(ctx, c, "cli")
}
