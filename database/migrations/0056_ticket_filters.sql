-- A staff member's saved queue filters: a name and the queue's query
-- string (status, channel, category, dates; never a customer's phone,
-- email or name).
CREATE TABLE ticket_filters (
    id         TEXT PRIMARY KEY,
    staff_id   TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ticket_filters_name ON ticket_filters (staff_id, name);

-- The ticket page's customer panel says which campaign messages the
-- customer opened: the opened links by customer. Partial, so a sent
-- message costs no index entry; only the first open adds one.
CREATE INDEX links_customer_opened ON links (customer_id) WHERE first_opened_at IS NOT NULL;
