package templates_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
)

// BenchmarkRender renders the default SMS and email transfer notices the
// way a campaign worker does: a stored version, parsed once, per recipient.
// The campaign engine needs at least 20,000 renders/s per core.
func BenchmarkRender(b *testing.B) {
	ctx := context.Background()
	s, _ := newStores(b, dbtest.SQLite(b))
	if _, err := s.InstallDefaults(ctx); err != nil {
		b.Fatal(err)
	}
	for _, ch := range []channels.Name{channels.SMS, channels.Email} {
		list, err := s.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: ch, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			b.Fatalf("%s: %d templates, %v", ch, len(list), err)
		}
		v := list[0].Latest()
		data := templates.SampleData("zh-CN")
		b.Run(string(ch), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Render(ctx, v, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
		})
	}
}
