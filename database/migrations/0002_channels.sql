-- Channels: inbound events (replies, receipts, bounces, follows) stored
-- before the provider is answered, and the devbox outbox of embedded mode.

-- Personal fields (sender address, text) are sealed in an envelope under a
-- data key of the row's own; from_idx is the sender's blind index, and
-- dedup_key is an HMAC of the provider's key (which may embed a phone).
CREATE TABLE inbound_events (
    id                  TEXT PRIMARY KEY,
    channel             TEXT NOT NULL,
    kind                TEXT NOT NULL,
    dedup_key           TEXT NOT NULL,
    from_idx            TEXT NOT NULL DEFAULT '',
    key_id              TEXT NOT NULL,
    key_wrapped         TEXT NOT NULL,
    sealed              TEXT NOT NULL,
    provider_message_id TEXT NOT NULL DEFAULT '',
    delivery_id         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT '',
    error_code          TEXT NOT NULL DEFAULT '',
    customer_id         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'matched', 'unmatched')),
    occurred_at         TIMESTAMP NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    processed_at        TIMESTAMP,
    UNIQUE (channel, dedup_key)
);
CREATE INDEX inbound_events_state ON inbound_events (state, received_at);
CREATE INDEX inbound_events_customer ON inbound_events (customer_id);

CREATE TABLE devbox_messages (
    id          TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    key_wrapped TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX devbox_messages_delivery ON devbox_messages (delivery_id);
