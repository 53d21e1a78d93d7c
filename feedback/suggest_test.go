package feedback_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestSuggestChannel: the reply form's default is the channel Reply would
// pick, with its reason; an unmatched ticket's is what reaches its sender.
func TestSuggestChannel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dbtest.SQLite(t), "")
	// 王五 wrote by SMS, which carries no replies here: the devbox.
	e.message(channels.SMS, "王五", "在吗")
	choice, err := e.svc.SuggestChannel(ctx, e.tickets("王五")[0].ID)
	if err != nil || choice.Default != channels.Devbox || !strings.Contains(choice.Reason, "sms is not configured") ||
		!slices.Equal(choice.Usable, []channels.Name{channels.Devbox}) {
		t.Fatalf("choice = %+v, %v", choice, err)
	}
	e.message(channels.SMS, "", "我是谁", from("13600009999"))
	unmatched := e.tickets("")[len(e.tickets(""))-1]
	if choice, err := e.svc.SuggestChannel(ctx, unmatched.ID); err != nil || choice.Default != channels.Devbox || choice.Reason == "" {
		t.Fatalf("unmatched choice = %+v, %v", choice, err)
	}
}
