package feedback_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// BenchmarkInboundToTickets measures inbound messages turned into tickets
// per second (msgs/s): classification, routing to a new or open ticket,
// the sealed message and its audit entry, in one transaction each, as the
// Inbox hands them over. 500 customers write in turn, so most messages join
// an open ticket and one in eight is a complaint with a ticket of its own.
func BenchmarkInboundToTickets(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchInbound(b, dbtest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchInbound(b, dbtest.Postgres(b)) })
}

func benchInbound(b *testing.B, db *database.DB) {
	const n = 500
	var csv strings.Builder
	csv.WriteString("姓名,手机\n")
	for i := range n {
		fmt.Fprintf(&csv, "客户%03d,+86139%08d\n", i, i)
	}
	e := newEnv(b, db, csv.String())
	e.svc = e.service(map[channels.Name]channels.Channel{channels.Devbox: e.box}, "")
	texts := []string{"你好，请问新公司的电话？", "还有地址", "收到了，谢谢", "发票怎么开", "送货太慢", "价格会变吗", "请回电", "我要投诉"}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		e.message(channels.SMS, fmt.Sprintf("客户%03d", i%n), texts[(i/n)%len(texts)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
