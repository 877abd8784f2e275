-- Granda schema, version 8: API keys that expire, and tenants that are deleted.
-- (It alters tables of version 7; every build that has this script has that one too, and versions a file lacks
-- are applied in order, so version 7 is always in place first.)

-- The first instant a key is refused at, in microseconds; NULL: it never expires. Keys made before stay NULL, so
-- every key that worked before the upgrade works after it.
ALTER TABLE api_keys ADD COLUMN expires_at_us INTEGER;

-- A deleted tenant keeps its row, with when it was deleted: its revoked keys still reference it, and its id is not
-- given out again (its usage records carry it).
ALTER TABLE tenants ADD COLUMN deleted_at_us INTEGER;
