-- The audit chain is MACed (HMAC-SHA256) under a key held by the process,
-- not the database. key_id names that key; '' is a chain still hashed
-- with plain SHA-256 (before this migration) until `handover audit rekey`.
ALTER TABLE audit_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
-- Where an entry was made when not through the web or worker: e.g.
-- "cli os_user=ops" for a command run on the server.
ALTER TABLE audit_log ADD COLUMN origin TEXT NOT NULL DEFAULT '';
