-- Archive (归档): after a transfer's effective date its records are
-- classified, numbered and made read-only. Nothing here is personal data.
CREATE TABLE archive_records (
    record_type    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    transfer_id    TEXT NOT NULL REFERENCES transfers (id),
    -- e.g. HO-2026-0001-000042: transfer's archive series and sequence
    archive_no     TEXT NOT NULL UNIQUE,
    classification TEXT NOT NULL,
    archived_by    TEXT NOT NULL,
    archived_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (record_type, record_id)
);
CREATE INDEX archive_records_transfer ON archive_records (transfer_id, classification);

-- One series per transfer; next is the next sequence number to hand out.
CREATE TABLE archive_series (
    transfer_id TEXT PRIMARY KEY REFERENCES transfers (id),
    series      TEXT NOT NULL UNIQUE,
    next_seq    BIGINT NOT NULL
);
