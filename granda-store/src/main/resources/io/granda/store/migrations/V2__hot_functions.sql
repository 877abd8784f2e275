-- Granda schema, version 2: hot functions.
-- A revision's scaling policy (used by hot functions; run-mode functions keep the defaults), and the split of a
-- call's cold-start time into image pull, create+start and init, which version 1 kept as one init_us.

ALTER TABLE function_revisions ADD COLUMN keep_alive_ms INTEGER NOT NULL DEFAULT 300000;
ALTER TABLE function_revisions ADD COLUMN min_instances INTEGER NOT NULL DEFAULT 0;
ALTER TABLE function_revisions ADD COLUMN max_instances INTEGER NOT NULL DEFAULT 10;
ALTER TABLE function_revisions ADD COLUMN concurrency   INTEGER NOT NULL DEFAULT 1;

-- Version 1 stored pull + create+start + init together in init_us; those records keep it there (their split is
-- unknown), with pull_us and create_start_us zero.
ALTER TABLE invocations ADD COLUMN pull_us  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invocations ADD COLUMN create_start_us INTEGER NOT NULL DEFAULT 0;
