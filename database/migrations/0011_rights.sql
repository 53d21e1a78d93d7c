-- Customer rights (PIPL Art. 45-47, 50): correction requests, the
-- confirmation codes that prove a customer holds a contact, short-lived
-- grants to see one's own data, and erasure decisions.

-- A correction request (Art. 46). The proposed values are sealed with the
-- customer's data key; fields names which ones, never their values.
CREATE TABLE correction_requests (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('awaiting_confirmation', 'pending', 'approved', 'rejected', 'cancelled')),
    fields       TEXT NOT NULL,
    proposed_enc TEXT NOT NULL,
    source       TEXT NOT NULL,
    link_id      TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX correction_requests_status ON correction_requests (status, id);
CREATE INDEX correction_requests_customer ON correction_requests (customer_id);

-- A six-digit code sent to a contact: stored only as SHA-256 of its id
-- and the code, good for ten minutes, five attempts and one use.
CREATE TABLE confirmation_codes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('correction', 'data_access')),
    subject_id  TEXT NOT NULL DEFAULT '',
    code_hash   TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX confirmation_codes_customer ON confirmation_codes (customer_id, created_at);

-- A customer's short-lived permission to see their own data (Art. 45),
-- given for a confirmed code; stored only as the token's SHA-256.
CREATE TABLE data_access_grants (
    token_hash  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX data_access_grants_customer ON data_access_grants (customer_id);

-- Erasure decisions (Art. 47): carried out, or refused with a reason
-- (Art. 50).
CREATE TABLE erasure_decisions (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('erased', 'refused')),
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX erasure_decisions_customer ON erasure_decisions (customer_id);
