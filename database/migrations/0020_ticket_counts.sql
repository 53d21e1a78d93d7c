-- The queue counts breached tickets whose next deadline is still ahead
-- through this small partial index, not by scanning every open ticket.
CREATE INDEX tickets_breached ON tickets (sla_due) WHERE breached;
