-- The survey a link issued outside a campaign asks (the satisfaction
-- survey after a ticket is resolved): JSON like campaigns.survey. A link
-- with no row here and no campaign asks NPS and free text.
CREATE TABLE link_surveys (
    link_id TEXT PRIMARY KEY,
    survey  TEXT NOT NULL
);
