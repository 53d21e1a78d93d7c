-- A batch task owns its batch's deliveries through one lease here instead
-- of moving every row to 'sending' and back: claiming 200 rows was 200 row
-- and index writes, now it is one. attempts counts the claims, so a batch
-- whose worker died gets a task of its own (campaign:ID:batch:N:rATTEMPTS).
CREATE TABLE campaign_batches (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    batch       BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    PRIMARY KEY (campaign_id, batch)
);

-- Rows a worker held when this ran are sent again by the next claim.
-- ('sending' stays allowed by the deliveries CHECK; nothing writes it.)
UPDATE deliveries SET status = 'queued' WHERE status = 'sending';
ALTER TABLE deliveries DROP COLUMN lease_until;
