// Package inboxtest builds the inbox for tests that record inbound events
// without acting on them: its hooks match no one and ignore every event,
// said in the test's code rather than left out.
package inboxtest

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

// New returns an inbox on db, vault and q that matches no one and ignores
// the events it processes; its sent log is the real one.
func New(t testing.TB, db *database.DB, vault *pii.Vault, q *queue.Queue) *channels.Inbox {
	t.Helper()
	log := queuetest.Logger(t)
	in, err := channels.NewInbox(channels.InboxConfig{DB: db, Vault: vault, Queue: q, Log: log,
		Match:   func(context.Context, channels.Address) (string, error) { return "", nil },
		OnEvent: func(context.Context, channels.InboundEvent) error { return nil },
		Sent:    channels.NewSentLog(db, vault.Index, log)})
	if err != nil {
		t.Fatal(err)
	}
	return in
}
