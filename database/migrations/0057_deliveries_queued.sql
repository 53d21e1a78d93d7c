-- Every query that finds deliveries by batch asks for the queued ones (a
-- claim, recovery, health, re-enqueueing), so the batch index holds only
-- those. On PostgreSQL a recorded send writes a new row version, which
-- gets an entry in every index but a partial one whose condition it no
-- longer meets: the sent row no longer costs one here.
DROP INDEX deliveries_batch;
CREATE INDEX deliveries_queued ON deliveries (campaign_id, batch) WHERE status = 'queued';
