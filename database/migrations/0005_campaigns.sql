-- Campaigns: a message to an audience over an ordered list of channels.
-- Planning writes one deliveries row per recipient; batch tasks claim
-- rows of one batch (one channel) with a conditional update and a lease.
-- Nothing here is readable personal data.
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    transfer_id     TEXT NOT NULL REFERENCES transfers (id),
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
    -- channels in fallback order, comma-separated; template_ids a JSON
    -- object of channel to template id.
    channels        TEXT NOT NULL,
    template_ids    TEXT NOT NULL,
    audience_tag    TEXT NOT NULL DEFAULT '',
    audience_region TEXT NOT NULL DEFAULT '',
    send_at         TIMESTAMP,
    planned_count   BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP
);
CREATE INDEX campaigns_status ON campaigns (status);
CREATE INDEX campaigns_due ON campaigns (status, send_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    campaign_id      TEXT NOT NULL REFERENCES campaigns (id),
    customer_id      TEXT NOT NULL,
    batch            BIGINT NOT NULL,
    channel          TEXT NOT NULL,
    template_id      TEXT NOT NULL DEFAULT '',
    template_version BIGINT NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('planned', 'queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'skipped', 'suppressed')),
    skip_reason      TEXT NOT NULL DEFAULT '',
    attempts         BIGINT NOT NULL DEFAULT 0,
    provider_id      TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    -- SHA-256 of the personal link's secret token; the token itself is
    -- only ever in the message sent.
    link_hash        TEXT,
    lease_until      TIMESTAMP,
    sent_at          TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX deliveries_batch ON deliveries (campaign_id, batch, status);
CREATE INDEX deliveries_status ON deliveries (campaign_id, status, id);
-- Receipts that do not echo the delivery id find it by provider id;
-- opt-out suppression finds a customer's unsent deliveries.
CREATE INDEX deliveries_provider ON deliveries (provider_id);
CREATE INDEX deliveries_customer ON deliveries (customer_id, status);
