-- Message templates. A template row is the head (name, latest version,
-- archived); every edit adds an immutable template_versions row, so a
-- delivery can name the exact version it was rendered from.

CREATE TABLE templates (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('transfer_notice', 'consent_request', 'detail_check', 'survey', 'incident_notice', 'generic')),
    channel     TEXT NOT NULL CHECK (channel IN ('wechat', 'sms', 'email', 'devbox')),
    locale      TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    version     BIGINT NOT NULL,
    -- default_key ("kind/channel/locale") marks a shipped default, so
    -- installing the defaults again adds nothing; NULL for the rest.
    default_key TEXT UNIQUE,
    archived_at TIMESTAMP,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX templates_kind ON templates (kind, channel, locale);

CREATE TABLE template_versions (
    template_id   TEXT NOT NULL REFERENCES templates (id),
    version       BIGINT NOT NULL,
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    html_body     TEXT NOT NULL DEFAULT '',
    sign_name     TEXT NOT NULL DEFAULT '',
    template_code TEXT NOT NULL DEFAULT '',
    params        TEXT NOT NULL DEFAULT '{}',
    wechat_template_id TEXT NOT NULL DEFAULT '',
    wechat_fields TEXT NOT NULL DEFAULT '{}',
    subscribe     BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (template_id, version)
);
