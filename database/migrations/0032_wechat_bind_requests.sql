-- A WeChat openid offered for a customer who already has a different one
-- (a link opened inside someone's WeChat): never bound on the spot, but
-- kept for staff to approve or reject. The openid is sealed with the
-- customer's data key, so erasing them makes it unreadable; no blind index
-- is kept here. No foreign key: destruction removes customers rows.
CREATE TABLE wechat_bind_requests (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    link_id     TEXT NOT NULL DEFAULT '',
    openid_enc  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by  TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    decided_at  TIMESTAMP
);
CREATE INDEX wechat_bind_requests_status ON wechat_bind_requests (status, created_at);
CREATE INDEX wechat_bind_requests_customer ON wechat_bind_requests (customer_id, status);
