-- Foundation: staff and API tokens, key store, customers, transfers,
-- imports, audit log. Portable SQL: runs unchanged on SQLite and PostgreSQL.

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'marketer', 'auditor')),
    password_hash TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT 'zh-CN',
    time_zone     TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    disabled_at   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- Keys wrapped by the master key: system keys (the blind-index key) and
-- one data key per customer. Deleting a customer's row crypto-shreds them.
CREATE TABLE system_keys (
    name    TEXT PRIMARY KEY,
    key_id  TEXT NOT NULL,
    wrapped TEXT NOT NULL
);

CREATE TABLE customer_keys (
    customer_id TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    wrapped     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
) WITHOUT ROWID;
-- No index on key_id: rotation looks for key_id <> current, which no
-- index serves, and every new customer would pay for one.

CREATE TABLE imports (
    id             TEXT PRIMARY KEY,
    file_name      TEXT NOT NULL,
    format         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    mapping        TEXT NOT NULL DEFAULT '',
    total_rows     BIGINT NOT NULL DEFAULT 0,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    created_count  BIGINT NOT NULL DEFAULT 0,
    updated_count  BIGINT NOT NULL DEFAULT 0,
    rejected_count BIGINT NOT NULL DEFAULT 0,
    failure        TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP,
    -- A running import touches this every few seconds, so another process
    -- can tell a live import from one whose process died.
    heartbeat_at   TIMESTAMP
);
CREATE INDEX imports_status ON imports (status);

-- Rejected rows: row number, field, reason. Never the rejected value.
CREATE TABLE import_errors (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_num   BIGINT NOT NULL,
    field     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (import_id, row_num, field)
);

-- Personal fields (name, phone, email, WeChat openid, company, address)
-- are one ciphertext, pii_enc: their JSON sealed with the customer's data
-- key; *_idx are HMAC blind indexes for exact lookup and dedup.
CREATE TABLE customers (
    id           TEXT PRIMARY KEY,
    external_ref TEXT NOT NULL DEFAULT '',
    pii_enc      TEXT NOT NULL DEFAULT '',
    phone_idx    TEXT,
    email_idx    TEXT,
    openid_idx   TEXT,
    region       TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '',
    locale       TEXT NOT NULL DEFAULT 'zh-CN',
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'opted_out', 'erased')),
    import_id    TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
-- Partial unique indexes: a customer without an openid (most, at import)
-- costs the index nothing. Only lookups and list filters get an index:
-- each one is paid for by every imported row.
CREATE UNIQUE INDEX customers_phone_idx ON customers (phone_idx) WHERE phone_idx IS NOT NULL;
CREATE UNIQUE INDEX customers_email_idx ON customers (email_idx) WHERE email_idx IS NOT NULL;
CREATE UNIQUE INDEX customers_openid_idx ON customers (openid_idx) WHERE openid_idx IS NOT NULL;
CREATE INDEX customers_region ON customers (region);
CREATE INDEX customers_import ON customers (import_id);

CREATE TABLE transfers (
    id              TEXT PRIMARY KEY,
    seller_name     TEXT NOT NULL,
    buyer_name      TEXT NOT NULL,
    buyer_contact   TEXT NOT NULL,
    effective_date  TEXT NOT NULL,
    purposes        TEXT NOT NULL,
    data_categories TEXT NOT NULL,
    retention_days  BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

-- Append-only, hash-chained audit log. audit_head serialises appends so
-- the chain never forks, on SQLite and PostgreSQL alike.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor);
