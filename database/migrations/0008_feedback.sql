-- Feedback tickets: every customer message (reply, survey text) becomes a
-- message on a ticket that staff work in the queue. Message text is sealed:
-- with the customer's data key when the sender is known (erasing the
-- customer makes it unreadable), else in an envelope of its own. Nothing
-- else here is readable personal data; unmatched senders are kept by
-- blind index only.
CREATE TABLE tickets (
    id                 TEXT PRIMARY KEY,
    -- '' while unmatched (unknown sender); sender_idx then joins their
    -- follow-ups to the same ticket.
    customer_id        TEXT NOT NULL DEFAULT '',
    unmatched          BOOLEAN NOT NULL DEFAULT FALSE,
    sender_idx         TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed', 'merged')),
    priority           TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    category           TEXT NOT NULL,
    assignee_id        TEXT NOT NULL DEFAULT '',
    team               TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '',
    -- the channel the customer last wrote on
    channel            TEXT NOT NULL DEFAULT '',
    merged_into        TEXT NOT NULL DEFAULT '',
    first_response_due TIMESTAMP NOT NULL,
    resolution_due     TIMESTAMP NOT NULL,
    first_response_at  TIMESTAMP,
    -- the next SLA deadline (first response, then resolution); far in the
    -- future once the ticket needs nothing, so the queue sorts by it.
    sla_due            TIMESTAMP NOT NULL,
    breached           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    resolved_at        TIMESTAMP,
    closed_at          TIMESTAMP
);
-- One open ticket per customer and topic: two messages racing cannot open two.
CREATE UNIQUE INDEX tickets_one_open ON tickets (customer_id, category)
    WHERE customer_id <> '' AND status IN ('new', 'open', 'pending');
CREATE INDEX tickets_customer ON tickets (customer_id, status, updated_at);
CREATE INDEX tickets_sender ON tickets (sender_idx, status);
-- The queue reads open tickets in deadline order: exactly the tickets whose
-- sla_due is not the far-future "nothing due", so one index walk serves it
-- (and, led by assignee or category, its common filters).
CREATE INDEX tickets_sla ON tickets (sla_due, id);
CREATE INDEX tickets_status ON tickets (status, sla_due, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, sla_due, id);
CREATE INDEX tickets_category ON tickets (category, sla_due, id);

CREATE TABLE ticket_messages (
    id                  TEXT PRIMARY KEY,
    ticket_id           TEXT NOT NULL REFERENCES tickets (id),
    direction           TEXT NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    channel             TEXT NOT NULL DEFAULT '',
    -- text sealed with the customer's key (key_id '') or in an envelope
    key_id              TEXT NOT NULL DEFAULT '',
    key_wrapped         TEXT NOT NULL DEFAULT '',
    text_enc            TEXT NOT NULL,
    -- the inbound event it came from: a retried event adds no second message
    inbound_event_id    TEXT UNIQUE,
    provider_message_id TEXT NOT NULL DEFAULT '',
    -- outbound: sending | sent | delivered | failed | bounced
    delivery_status     TEXT NOT NULL DEFAULT '',
    delivery_error      TEXT NOT NULL DEFAULT '',
    -- outbound: why this channel was chosen
    channel_reason      TEXT NOT NULL DEFAULT '',
    author_id           TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMP NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at);
CREATE INDEX ticket_messages_provider ON ticket_messages (provider_message_id);

CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Classification rules, run in ordinal order on every inbound message;
-- the first whose keywords match acts.
CREATE TABLE ticket_rules (
    id         TEXT PRIMARY KEY,
    ordinal    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    -- JSON array of keywords; match: exact (the whole message) | contains
    keywords   TEXT NOT NULL,
    match_mode TEXT NOT NULL CHECK (match_mode IN ('exact', 'contains')),
    action     TEXT NOT NULL CHECK (action IN ('opt_out', 'categorize', 'consent')),
    category   TEXT NOT NULL DEFAULT '',
    priority   TEXT NOT NULL DEFAULT '',
    decision   TEXT NOT NULL DEFAULT '',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO ticket_rules (id, ordinal, name, keywords, match_mode, action, category, priority, decision, created_at, updated_at) VALUES
('01JDEFAULTRULE0000000OPTOUT', 10, 'Opt-out keywords', '["退订","TD","T","unsubscribe","STOP"]', 'exact', 'opt_out', 'opt_out', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('01JDEFAULTRULE000000DECLINE', 20, 'Consent declined', '["不同意"]', 'exact', 'consent', 'consent', '', 'declined', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('01JDEFAULTRULE000000GRANTED', 30, 'Consent granted', '["同意"]', 'exact', 'consent', 'consent', '', 'granted', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('01JDEFAULTRULE000CORRECTION', 40, 'Corrections', '["更正","修改","地址变更"]', 'contains', 'categorize', 'correction', 'normal', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
('01JDEFAULTRULE0000COMPLAINT', 50, 'Complaints', '["投诉"]', 'contains', 'categorize', 'complaint', 'high', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
