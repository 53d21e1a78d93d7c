package channels_test

import (
	"testing"

	"github.com/handoverhq/handover/channels"
)

func TestReceiptStatus(t *testing.T) {
	for _, c := range []struct {
		ev   channels.InboundEvent
		want channels.DeliveryStatus
	}{
		{channels.InboundEvent{Kind: channels.EventBounce}, channels.StatusBounced},
		{channels.InboundEvent{Kind: channels.EventReceipt, Status: channels.StatusBounced}, channels.StatusBounced},
		{channels.InboundEvent{Kind: channels.EventReceipt, Status: channels.StatusDelivered}, channels.StatusDelivered},
		{channels.InboundEvent{Kind: channels.EventReceipt, Status: channels.StatusFailed}, channels.StatusFailed},
		{channels.InboundEvent{Kind: channels.EventReceipt, Status: "queued"}, ""},
		{channels.InboundEvent{Kind: channels.EventMessage}, ""},
	} {
		if got := c.ev.ReceiptStatus(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.ev, got, c.want)
		}
	}
}
