-- One default training module per role: processes starting together on a
-- fresh database (api and worker) both install the defaults, and the
-- second one's insert now conflicts instead of adding a twin.
CREATE UNIQUE INDEX training_modules_default_role ON training_modules (role) WHERE created_by = 'system:defaults';
