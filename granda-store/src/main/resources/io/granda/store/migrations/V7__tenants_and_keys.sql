-- Granda schema, version 7: tenants and API keys.
-- (Version 6 is another change's; the migration runner applies whichever known versions a file lacks, so the
-- numbers of two changes made side by side may be merged in either order.)

-- Every function belongs to one tenant, fixed at creation. Functions made before tenants existed belong to
-- 'default'. Names stay unique across tenants (function URLs and the original API know functions by name).
ALTER TABLE functions ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX functions_by_tenant ON functions (tenant, name);

-- A private function's URL needs an API key of its tenant (or an admin key); a public one's URL is its secret.
ALTER TABLE function_revisions ADD COLUMN is_private INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1));

CREATE TABLE tenants (
    id            TEXT    NOT NULL PRIMARY KEY,
    created_at_us INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The tenant 'default' always exists: it was created with the first function, or now.
INSERT INTO tenants (id, created_at_us)
SELECT 'default', COALESCE((SELECT MIN(created_at_us) FROM functions), CAST(unixepoch('subsec') * 1000000 AS INTEGER));

-- API keys: the SHA-256 of each key (hex), never the key. Keys are revoked, never deleted, so that every key id
-- that ever acted stays known.
CREATE TABLE api_keys (
    key_id        TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    role          TEXT    NOT NULL CHECK (role IN ('ADMIN', 'TENANT')),
    name          TEXT    NOT NULL,
    secret_sha256 TEXT    NOT NULL CHECK (length(secret_sha256) = 64),
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at_us, key_id);
