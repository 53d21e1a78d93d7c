-- An opt-out is a channel and a kind of message: promotional, survey or
-- service. The notices the law requires (transfer, Art. 22; incident,
-- Art. 57) have no kind here: no opt-out stops them. Rows from before
-- kinds stopped everything on their channel; they keep stopping every
-- kind that may be stopped, as kind '*'.
CREATE TABLE channel_optouts_by_kind (
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, channel, kind)
);
INSERT INTO channel_optouts_by_kind (customer_id, channel, kind, source, created_at)
    SELECT customer_id, channel, '*', source, created_at FROM channel_optouts;
DROP TABLE channel_optouts;
ALTER TABLE channel_optouts_by_kind RENAME TO channel_optouts;
