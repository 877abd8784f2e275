-- Granda schema, version 10: read-only API keys (role READER).
-- (It rebuilds the api_keys table of versions 7 and 8; every build that has this script has those too, and versions
-- a file lacks are applied in order, so they are always in place first.)

-- SQLite cannot change a CHECK constraint in place: the table is made again with the wider one, its rows copied
-- as they are. Nothing references api_keys, so dropping the old table breaks no foreign key.
CREATE TABLE api_keys_v10 (
    key_id        TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    role          TEXT    NOT NULL CHECK (role IN ('ADMIN', 'TENANT', 'READER')),
    name          TEXT    NOT NULL,
    secret_sha256 TEXT    NOT NULL CHECK (length(secret_sha256) = 64),
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER,
    expires_at_us INTEGER
) STRICT, WITHOUT ROWID;

INSERT INTO api_keys_v10 (key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, expires_at_us)
SELECT key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, expires_at_us FROM api_keys;

DROP TABLE api_keys;
ALTER TABLE api_keys_v10 RENAME TO api_keys;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at_us, key_id);
