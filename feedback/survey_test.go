package feedback_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/transfers"
)

// Resolving a ticket sends the customer a satisfaction-survey link when
// the service has a link maker; the ticket stays resolved.
func TestSurveyAfterResolve(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		var askedFor string
		e.svc = feedback.New(feedback.Config{DB: db, Transfers: transfers.NewStore(db), Vault: e.vault, Queue: e.q, Customers: e.cs,
			Channels: map[channels.Name]channels.Channel{channels.Devbox: e.box},
			SurveyLink: func(_ context.Context, customerID string) (string, error) {
				askedFor = customerID
				return "https://handover.example.com/l/AbCdEfGhIjKlMn/survey", nil
			}})
		e.message(channels.Devbox, "张三", "发票怎么开？")
		tk := e.tickets("张三")[0]
		resolved := feedback.StatusResolved
		got, err := e.svc.UpdateTicket(ctx, tk.ID, feedback.Update{Status: &resolved}, "staff:s1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != feedback.StatusResolved || askedFor != e.customer("张三") {
			t.Fatalf("status %s, link asked for %q", got.Status, askedFor)
		}
		if conv := texts(e.view(tk.ID)); !strings.Contains(conv, "out:您的问题已处理完毕") || !strings.Contains(conv, "/l/AbCdEfGhIjKlMn/survey") {
			t.Fatalf("conversation %q", conv)
		}
		// Resolving again (a no-op) sends nothing more.
		e.svc.UpdateTicket(ctx, tk.ID, feedback.Update{Status: &resolved}, "staff:s1")
		if n := strings.Count(texts(e.view(tk.ID)), "/survey"); n != 1 {
			t.Errorf("%d survey messages, want 1", n)
		}
	})
}

func TestCountText(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", feedback.CountCap - 1: "999", feedback.CountCap: "999+", 5000: "999+"} {
		if got := feedback.CountText(n); got != want {
			t.Errorf("CountText(%d) = %q, want %q", n, got, want)
		}
	}
}
