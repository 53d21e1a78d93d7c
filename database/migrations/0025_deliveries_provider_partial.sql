-- Receipts look deliveries up by a provider id, which a row has only once
-- sent: indexing the unsent rows' empty ids cost every planned row an
-- entry, and every sent one a move out of it.
DROP INDEX deliveries_provider;
CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id <> '';
