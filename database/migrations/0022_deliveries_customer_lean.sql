-- A customer has a handful of deliveries: finding them by customer_id and
-- checking status on the row is enough, and without status in this index
-- a claim or a recorded send no longer moves the row's entry in it.
DROP INDEX deliveries_customer;
CREATE INDEX deliveries_customer ON deliveries (customer_id);
