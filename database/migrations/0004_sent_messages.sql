-- What went out to whom, so a reply can be tied to the message it answers:
-- an SMS reply carries only the phone number and the sign name. to_idx is
-- the recipient's blind index; nothing here is readable personal data.
CREATE TABLE sent_messages (
    delivery_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    to_idx      TEXT NOT NULL,
    sender      TEXT NOT NULL,
    provider_id TEXT NOT NULL DEFAULT '',
    sent_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (delivery_id, channel)
);
CREATE INDEX sent_messages_reply ON sent_messages (channel, to_idx, sender, sent_at);
