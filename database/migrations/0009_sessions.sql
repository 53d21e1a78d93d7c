-- Dashboard sign-in: browser sessions, failed sign-ins for throttling, and
-- optional TOTP per staff member.

-- A session is known by the SHA-256 of its cookie value: a database leak
-- gives no usable cookie. csrf_token is the per-session token every form
-- carries. A session ends when idle too long (last_seen_at) or at
-- expires_at, whichever comes first.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_staff ON sessions (staff_id);

-- One row per failed sign-in, per scope: "account:" or "ip:" followed by
-- the SHA-256 of the email or address (never the value itself). Rows older
-- than the throttling window are deleted as new ones arrive.
CREATE TABLE login_failures (
    id         TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_scope ON login_failures (scope, created_at);
CREATE INDEX login_failures_created ON login_failures (created_at);

-- TOTP (RFC 6238): totp_secret is set at enrolment and used once
-- totp_enabled is true (after the member proved a code). totp_last_step is
-- the 30-second step of the last code accepted: a code works once.
ALTER TABLE staff ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
