-- Claiming a batch finds its ~200 rows by (campaign_id, batch) and checks
-- their status on the row; with status in this index every claim and every
-- recorded send moved each row's entry in it too.
DROP INDEX deliveries_batch;
CREATE INDEX deliveries_batch ON deliveries (campaign_id, batch);

-- The link's hash lives in links (token_hash, with delivery_id); this copy
-- was written for every sent message and never read.
ALTER TABLE deliveries DROP COLUMN link_hash;
