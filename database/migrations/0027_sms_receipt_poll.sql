-- When the SMS receipt poller (HANDOVER_SMS_RECEIPT_POLL) last asked
-- Aliyun about a sent delivery, so a message still waiting for its carrier
-- is asked again only after an interval. No index: the poller reaches its
-- rows through campaigns active in the last 48 hours and the existing
-- (campaign_id, status, id) index, and an index here would be rewritten on
-- every poll.
ALTER TABLE deliveries ADD COLUMN receipt_polled_at TIMESTAMP;
