-- Erasing a customer deletes their devbox records and the inbound events
-- never matched to them (found by their sender's blind index).
CREATE INDEX devbox_messages_customer ON devbox_messages (customer_id);
CREATE INDEX inbound_events_from ON inbound_events (from_idx);
