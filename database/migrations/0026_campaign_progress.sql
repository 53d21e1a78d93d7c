-- Live progress without counting a campaign's deliveries on every poll:
-- planning counts its skips next to planned_count, and each batch's record
-- counts what it sent and failed on the lease row it already updates.
-- Progress adds an index range count of the (few) suppressed rows.
ALTER TABLE campaigns ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaign_batches ADD COLUMN sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaign_batches ADD COLUMN failed BIGINT NOT NULL DEFAULT 0;

UPDATE campaigns SET skipped_count = (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.status = 'skipped');
INSERT INTO campaign_batches (campaign_id, batch, attempts, sent, failed)
    SELECT campaign_id, batch, 0,
        SUM(CASE WHEN status IN ('sent', 'delivered', 'bounced') THEN 1 ELSE 0 END),
        SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)
    FROM deliveries WHERE status IN ('sent', 'delivered', 'bounced', 'failed') GROUP BY campaign_id, batch
    ON CONFLICT (campaign_id, batch) DO UPDATE SET sent = excluded.sent, failed = excluded.failed;
