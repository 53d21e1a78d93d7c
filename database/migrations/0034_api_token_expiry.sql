-- API tokens expire. A token made before this column existed counts as
-- expiring staff.DefaultTokenTTL after it was made (the code reads a NULL
-- that way), so no old token lives for ever.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);
