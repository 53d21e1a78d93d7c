-- Training attempts are limited per member and module in a window: one
-- row each, counted with a single upsert so parallel attempts cannot slip
-- past the limit.
CREATE TABLE training_attempts (
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    module_id    TEXT NOT NULL REFERENCES training_modules (id),
    window_start TIMESTAMP NOT NULL,
    attempts     BIGINT NOT NULL,
    PRIMARY KEY (staff_id, module_id)
);
