-- A campaign's funnel counts, per link of the campaign, whether it led to
-- a consent decision or a correction: these look the link up.
CREATE INDEX consent_events_link ON consent_events (link_id);
CREATE INDEX correction_requests_link ON correction_requests (link_id);
