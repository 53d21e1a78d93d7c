-- What every message costs PostgreSQL on the send path, trimmed without
-- changing what is stored (PostgreSQL only: SQLite could drop a
-- constraint only by copying the table, and its checks cost it little).
--
-- The foreign keys from deliveries to campaigns and from links to
-- transfers ran a lookup of the campaign or transfer for every row planned
-- or sent (about 6 µs each): the planner writes deliveries for a campaign
-- it has just read, links are written for the delivery's campaign or after
-- Issue has found the transfer, and nothing deletes a campaign or a
-- transfer. The other foreign keys to campaigns and transfers stay.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_id_fkey;
ALTER TABLE links DROP CONSTRAINT links_transfer_id_fkey;
-- One unique index on (customer_id, campaign_id) does the work of the
-- unique (campaign_id, customer_id) and of deliveries_customer: one index
-- entry fewer for every delivery planned and every send recorded. Reads
-- by campaign use deliveries_status and deliveries_queued. The index is
-- built inside the migration: on a deployment with millions of deliveries
-- scale the workers to 0 for it (docs/operations.md).
CREATE UNIQUE INDEX deliveries_customer_campaign ON deliveries (customer_id, campaign_id);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_id_customer_id_key;
DROP INDEX deliveries_customer;
