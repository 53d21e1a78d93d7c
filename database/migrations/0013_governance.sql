-- Staff governance: confidentiality agreements, training, access reviews
-- and the public information-protection report.

-- Third-party accounts (the buyer's staff, an agency) expire; a job
-- disables them, and sign-in and API tokens stop at once.
ALTER TABLE staff ADD COLUMN expires_at TIMESTAMP;

-- Versioned confidentiality agreement; the highest version is current.
CREATE TABLE agreements (
    version      BIGINT PRIMARY KEY,
    text_zh      TEXT NOT NULL,
    text_en      TEXT NOT NULL,
    -- SHA-256 of both texts: what an acceptance is bound to.
    hash         TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL
);

CREATE TABLE agreement_acceptances (
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    version     BIGINT NOT NULL REFERENCES agreements (version),
    hash        TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    accepted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (staff_id, version, accepted_at)
);

-- A training module belongs to a role; questions are JSON
-- [{"q": "...", "options": ["..."], "answer": 1}].
CREATE TABLE training_modules (
    id          TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    questions   TEXT NOT NULL,
    pass_score  BIGINT NOT NULL,
    period_days BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    retired_at  TIMESTAMP
);
CREATE INDEX training_modules_role ON training_modules (role);

CREATE TABLE training_results (
    id        TEXT PRIMARY KEY,
    module_id TEXT NOT NULL REFERENCES training_modules (id),
    staff_id  TEXT NOT NULL REFERENCES staff (id),
    score     BIGINT NOT NULL,
    passed    BOOLEAN NOT NULL,
    taken_at  TIMESTAMP NOT NULL
);
CREATE INDEX training_results_staff ON training_results (staff_id, module_id, taken_at);

CREATE TABLE access_reviews (
    id           TEXT PRIMARY KEY,
    period_start TIMESTAMP NOT NULL,
    period_end   TIMESTAMP NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'completed')),
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    completed_at TIMESTAMP
);

CREATE TABLE access_review_items (
    review_id    TEXT NOT NULL REFERENCES access_reviews (id),
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    role         TEXT NOT NULL,
    last_sign_in TIMESTAMP,
    reveals      BIGINT NOT NULL,
    exports      BIGINT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('pending', 'confirmed', 'revoked')),
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   TIMESTAMP,
    note         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (review_id, staff_id)
);

-- Transfers whose public information-protection report is published.
CREATE TABLE public_reports (
    slug        TEXT PRIMARY KEY,
    transfer_id TEXT NOT NULL UNIQUE REFERENCES transfers (id),
    enabled_by  TEXT NOT NULL,
    enabled_at  TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, at);
