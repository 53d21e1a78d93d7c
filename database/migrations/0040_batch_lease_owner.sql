-- A batch's lease is renewed by its worker's heartbeat and names its
-- holder, so a worker renews and gives back only its own lease, never one
-- another worker took over after it expired. suspect counts the rows a
-- takeover found still queued: their first send's outcome is unknown, so
-- sending them again may duplicate them.
ALTER TABLE campaign_batches ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE campaign_batches ADD COLUMN suspect BIGINT NOT NULL DEFAULT 0;
