-- Quiet hours are reckoned in each customer's own time zone: an IANA name
-- such as Europe/Berlin, or '' when it is not known (the campaign's zone
-- then applies). Not personal data worth sealing: a plain column.
ALTER TABLE customers ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- The zone a delivery is held in, fixed when it is planned; a batch holds
-- rows of one zone, and the reconciler reads it back from them.
ALTER TABLE deliveries ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
