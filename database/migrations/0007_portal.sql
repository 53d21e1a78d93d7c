-- Personal links (/l/{token}) and what the portal behind them stores. The
-- token itself is never stored: only its SHA-256, so a copy of the
-- database opens no link. Nothing here is readable personal data; a
-- survey's free text is sealed with the customer's data key.
CREATE TABLE links (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    customer_id     TEXT NOT NULL,
    delivery_id     TEXT NOT NULL DEFAULT '',
    campaign_id     TEXT NOT NULL DEFAULT '',
    transfer_id     TEXT NOT NULL REFERENCES transfers (id),
    -- comma-separated, a subset of the transfer's purposes
    purposes        TEXT NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP,
    open_count      BIGINT NOT NULL DEFAULT 0,
    first_opened_at TIMESTAMP,
    last_opened_at  TIMESTAMP,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX links_customer ON links (customer_id, created_at);
CREATE INDEX links_campaign ON links (campaign_id);

-- A campaign's survey: JSON {"nps":true,"csat":false,"question":"..."};
-- empty means NPS and free text.
ALTER TABLE campaigns ADD COLUMN survey TEXT NOT NULL DEFAULT '';
-- How long the campaign's links live, in days; 0: HANDOVER_LINK_TTL.
ALTER TABLE campaigns ADD COLUMN link_ttl_days BIGINT NOT NULL DEFAULT 0;

-- One answer per link.
CREATE TABLE survey_answers (
    id          TEXT PRIMARY KEY,
    link_id     TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL DEFAULT '',
    -- NULL when the question was not asked
    nps         BIGINT,
    csat        BIGINT,
    text_enc    TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX survey_answers_campaign ON survey_answers (campaign_id, created_at);
