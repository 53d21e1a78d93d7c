-- Retention and destruction of the seller's copy: a plan per transfer
-- (destroy N days after the effective date), requested by an admin and
-- approved by a different person (an auditor) before it may run, with its
-- progress and the destruction report it produced.
CREATE TABLE destruction_plans (
    id              TEXT PRIMARY KEY,
    transfer_id     TEXT NOT NULL REFERENCES transfers (id),
    retention_days  BIGINT NOT NULL,
    due_at          TIMESTAMP NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'running', 'completed', 'cancelled')),
    requested_by    TEXT NOT NULL,
    requested_at    TIMESTAMP NOT NULL,
    approved_by     TEXT NOT NULL DEFAULT '',
    approved_at     TIMESTAMP,
    started_by      TEXT NOT NULL DEFAULT '',
    started_at      TIMESTAMP,
    completed_at    TIMESTAMP,
    destroyed_count BIGINT NOT NULL DEFAULT 0,
    report_html     TEXT NOT NULL DEFAULT '',
    report_sha256   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX destruction_plans_status ON destruction_plans (status, due_at);
