-- Granda schema, version 6: asynchronous invocations (events) and the functions' async policies.
-- An event's row is its whole state: the request, where it is (status, attempts, when next due), and the last
-- attempt's result. Instants are microseconds since the epoch (_us), as everywhere.

CREATE TABLE async_events (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant               TEXT    NOT NULL,
    function_id          TEXT    NOT NULL,
    function_name        TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'DEAD')),
    source               TEXT    NOT NULL,
    method               TEXT    NOT NULL,
    path                 TEXT    NOT NULL,
    query                TEXT    NOT NULL,
    -- One "name: value" line per header value, in order; HTTP header values cannot hold a line break.
    headers              TEXT    NOT NULL,
    body                 BLOB    NOT NULL,
    idempotency_key      TEXT,
    callback_url         TEXT,
    accepted_at_us       INTEGER NOT NULL,
    attempts             INTEGER NOT NULL CHECK (attempts >= 0),
    interrupted_attempts INTEGER NOT NULL CHECK (interrupted_attempts >= 0),
    failed_attempts      INTEGER NOT NULL CHECK (failed_attempts >= 0),
    next_attempt_us      INTEGER,
    started_at_us        INTEGER,
    finished_at_us       INTEGER,
    last_invocation_id   TEXT,
    result_outcome       TEXT,
    result_status        INTEGER,
    result_content_type  TEXT,
    result_body          BLOB,
    result_truncated     INTEGER CHECK (result_truncated IN (0, 1)),
    result_log           TEXT,
    error                TEXT,
    callback_status      TEXT,
    CHECK ((status IN ('QUEUED', 'FAILED')) = (next_attempt_us IS NOT NULL))
) STRICT;

-- What the dispatcher reads: the pending events of each function in the order they are due.
CREATE INDEX async_events_pending ON async_events (function_id, next_attempt_us)
    WHERE status IN ('QUEUED', 'FAILED');
-- An idempotency key is taken once per function; a key past its window is released by clearing it.
CREATE UNIQUE INDEX async_events_by_key ON async_events (function_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Listings, newest first, per function (ids are time-ordered).
CREATE INDEX async_events_by_function ON async_events (function_id, id);
-- Restart: what was running.
CREATE INDEX async_events_running ON async_events (status) WHERE status = 'RUNNING';
-- Retention: final events by when they became final.
CREATE INDEX async_events_finished ON async_events (finished_at_us) WHERE finished_at_us IS NOT NULL;

CREATE TABLE async_policies (
    function_id        TEXT    NOT NULL PRIMARY KEY,
    max_attempts       INTEGER NOT NULL,
    initial_backoff_ms INTEGER NOT NULL,
    max_backoff_ms     INTEGER NOT NULL,
    max_event_age_s    INTEGER NOT NULL,
    concurrency        INTEGER NOT NULL,
    schedule           TEXT,
    callback_url       TEXT
) STRICT;
