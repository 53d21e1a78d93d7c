-- Campaign rules: the full audience filter, the consent purpose a campaign
-- depends on, quiet hours, per-channel send rates, and resumable planning.
-- audience_rules is JSON (tags, import batch, consent filter, channel
-- reachability); audience_tag holds the tags comma-separated.
ALTER TABLE campaigns ADD COLUMN audience_rules TEXT NOT NULL DEFAULT '{}';
-- The transfer purpose whose consent a consent-dependent kind (consent
-- request, detail check, survey, generic) needs; '' needs none.
ALTER TABLE campaigns ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
-- Quiet hours as minutes after midnight in time_zone; equal start and end
-- mean none. Sends due in the window are held until it ends.
ALTER TABLE campaigns ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai';
ALTER TABLE campaigns ADD COLUMN quiet_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN quiet_end BIGINT NOT NULL DEFAULT 0;
-- JSON object of channel to messages per second for this campaign, kept on
-- top of the channel's shared rate.
ALTER TABLE campaigns ADD COLUMN rates TEXT NOT NULL DEFAULT '{}';
-- Planning goes in chunks of customers by id: plan_cursor is the last
-- customer id planned, next_batch the next batch number, planned_at set
-- once every recipient has a row.
ALTER TABLE campaigns ADD COLUMN plan_cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN next_batch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN planned_at TIMESTAMP;
-- Rows planned before this migration are complete plans.
UPDATE campaigns SET planned_at = COALESCE(started_at, updated_at) WHERE status IN ('running', 'paused', 'completed', 'cancelled');

-- An explicit audience: the customers a campaign is sent to.
CREATE TABLE campaign_customers (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    customer_id TEXT NOT NULL,
    PRIMARY KEY (campaign_id, customer_id)
);
