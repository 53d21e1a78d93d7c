-- Consent: an append-only ledger of decisions (PIPL Art. 14, 15) and each
-- customer's current state per transfer and purpose, written in the same
-- transaction. The evidence that identifies a person (IP address, user
-- agent) is sealed with the customer's data key, so erasing the customer
-- leaves the decision and its notice hash but nothing personal.
CREATE TABLE consent_events (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    transfer_id  TEXT NOT NULL REFERENCES transfers (id),
    purpose      TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('granted', 'declined', 'withdrawn')),
    -- portal | reply | staff | import
    source       TEXT NOT NULL,
    -- SHA-256 of the notice text the customer was shown.
    notice_hash  TEXT NOT NULL DEFAULT '',
    link_id      TEXT NOT NULL DEFAULT '',
    evidence_enc TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX consent_events_customer ON consent_events (customer_id, transfer_id, created_at);

CREATE TABLE consent_state (
    customer_id TEXT NOT NULL,
    transfer_id TEXT NOT NULL REFERENCES transfers (id),
    purpose     TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('granted', 'declined', 'withdrawn')),
    event_id    TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, transfer_id, purpose)
);
-- Audiences and the buyer's export select by transfer, purpose, decision.
CREATE INDEX consent_state_decision ON consent_state (transfer_id, purpose, decision);

-- Opt-out of one channel (the customers.status opted_out is every channel).
CREATE TABLE channel_optouts (
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
