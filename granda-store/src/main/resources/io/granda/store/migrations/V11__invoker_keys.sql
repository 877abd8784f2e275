-- Granda schema, version 11: call-only API keys (role INVOKER), optionally limited to named functions.
-- (It rebuilds the api_keys table of versions 7, 8 and 10; every build that has this script has those too, and
-- versions a file lacks are applied in order, so they are always in place first.)

-- SQLite cannot change a CHECK constraint in place: the table is made again with the wider one and the new column,
-- its rows copied as they are (no key has a list of functions yet). Nothing references api_keys, so dropping the old
-- table breaks no foreign key.
--
-- functions: for an INVOKER key, the names of the only functions of its tenant it may call, as a JSON array of
-- strings in the order given; NULL for no list (an invoker key calls every private function of its tenant, and keys
-- of other roles have none). The names are checked by Granda before they are stored.
CREATE TABLE api_keys_v11 (
    key_id        TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    role          TEXT    NOT NULL CHECK (role IN ('ADMIN', 'TENANT', 'READER', 'INVOKER')),
    name          TEXT    NOT NULL,
    secret_sha256 TEXT    NOT NULL CHECK (length(secret_sha256) = 64),
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER,
    expires_at_us INTEGER,
    functions     TEXT    CHECK (functions IS NULL OR (role = 'INVOKER' AND json_valid(functions)
                                 AND json_type(functions) = 'array' AND json_array_length(functions) >= 1))
) STRICT, WITHOUT ROWID;

INSERT INTO api_keys_v11 (key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, expires_at_us,
                          functions)
SELECT key_id, tenant, role, name, secret_sha256, created_at_us, revoked_at_us, expires_at_us, NULL FROM api_keys;

DROP TABLE api_keys;
ALTER TABLE api_keys_v11 RENAME TO api_keys;

CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at_us, key_id);
