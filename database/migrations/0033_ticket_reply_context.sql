-- What a reply to a ticket needs that the customer's record does not hold:
-- an unknown sender's address (so staff can answer an unmatched ticket),
-- and the last email's Message-ID and subject (so replies thread). Sealed
-- like message text: with the customer's key (key_id '') or in an
-- envelope of its own while the ticket is unmatched.
ALTER TABLE tickets ADD COLUMN reply_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN reply_key_wrapped TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN reply_enc TEXT NOT NULL DEFAULT '';
