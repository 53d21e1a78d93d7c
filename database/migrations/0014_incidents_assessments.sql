-- Incidents (PIPL Art. 57) and personal-information impact assessments
-- (Art. 55-56). Neither holds personal data: affected customers are ids.

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    -- comma-separated data categories (customers.DataCategories)
    data_categories TEXT NOT NULL,
    cause           TEXT NOT NULL,
    measures        TEXT NOT NULL,
    -- who customers and the regulator can contact about it
    contact         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'contained', 'closed')),
    occurred_at     TIMESTAMP NOT NULL,
    discovered_at   TIMESTAMP NOT NULL,
    notice_campaign TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE incident_customers (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    customer_id TEXT NOT NULL,
    PRIMARY KEY (incident_id, customer_id)
);

-- The timeline: what was done, when, by whom (also in the audit log).
CREATE TABLE incident_events (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

-- An impact assessment approves processing for a purpose of a transfer
-- (an export to the buyer, a campaign to a new purpose). Kept at least
-- three years after approval: retain_until.
CREATE TABLE assessments (
    id           TEXT PRIMARY KEY,
    transfer_id  TEXT NOT NULL REFERENCES transfers (id),
    -- export | campaign
    activity     TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    necessity    TEXT NOT NULL,
    risks        TEXT NOT NULL,
    measures     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'rejected')),
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    approved_by  TEXT NOT NULL DEFAULT '',
    approved_at  TIMESTAMP,
    retain_until TIMESTAMP
);
CREATE INDEX assessments_transfer ON assessments (transfer_id, activity, purpose, status);
