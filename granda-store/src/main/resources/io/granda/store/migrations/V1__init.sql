-- Granda schema, version 1: functions with their immutable revisions, and invocation records.
-- Instants are integers: microseconds since the epoch (column suffix _us). Tables are STRICT so that a value of
-- the wrong type is an error, not a silent conversion.

-- One row per live function: what stays the same across revisions, and which revision is current.
CREATE TABLE functions (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    route_id      TEXT    NOT NULL UNIQUE,
    revision      INTEGER NOT NULL CHECK (revision >= 1),
    created_at_us INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL
) STRICT;

-- Every revision ever made, never updated. Deleting a function deletes its revisions with it.
-- The timeout is kept as seconds plus nanoseconds so that any Duration comes back exactly.
CREATE TABLE function_revisions (
    function_id     TEXT    NOT NULL REFERENCES functions (id) ON DELETE CASCADE,
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    image           TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    timeout_nanos   INTEGER NOT NULL CHECK (timeout_nanos BETWEEN 0 AND 999999999),
    memory_mb       INTEGER NOT NULL,
    made_at_us      INTEGER NOT NULL,
    PRIMARY KEY (function_id, revision)
) STRICT, WITHOUT ROWID;

-- A revision's environment, one row per variable; position keeps the order the user wrote it in.
CREATE TABLE function_env (
    function_id TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    PRIMARY KEY (function_id, revision, position),
    UNIQUE (function_id, revision, name),
    FOREIGN KEY (function_id, revision) REFERENCES function_revisions (function_id, revision) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Invocation records: append-only, the billing source of truth. No foreign key to functions, because records
-- outlive the function they belong to. seq is the arrival order, which cursors page by; AUTOINCREMENT makes sure
-- a seq is never handed out twice. billed_ms and mb_ms are computed by io.granda.core.Billing at insert, so the
-- store's sums and the rest of Granda agree to the last digit.
CREATE TABLE invocations (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    invocation_id  TEXT    NOT NULL UNIQUE,
    tenant         TEXT    NOT NULL,
    function_id    TEXT    NOT NULL,
    function_name  TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    start_us       INTEGER NOT NULL,
    end_us         INTEGER NOT NULL,
    queue_us       INTEGER NOT NULL,
    init_us        INTEGER NOT NULL,
    run_us         INTEGER NOT NULL,
    memory_mb      INTEGER NOT NULL,
    cpu_us         INTEGER NOT NULL,
    outcome        TEXT    NOT NULL,
    exit_code      INTEGER NOT NULL,
    cold           INTEGER NOT NULL CHECK (cold IN (0, 1)),
    request_bytes  INTEGER NOT NULL,
    response_bytes INTEGER NOT NULL,
    billed_ms      INTEGER NOT NULL,
    mb_ms          INTEGER NOT NULL
) STRICT;

-- Paging one function's records newest first.
CREATE INDEX invocations_by_function_seq ON invocations (function_id, seq);
-- Usage of one function over a window.
CREATE INDEX invocations_by_function_start ON invocations (function_id, start_us);
-- Usage of every function over a window.
CREATE INDEX invocations_by_start ON invocations (start_us);

-- One row, rewritten by every health check: proof that the store can still write (disk full, read-only mount and
-- a lost lock all show up here, not at the next call's record).
CREATE TABLE health_probe (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    checked_at_us INTEGER NOT NULL
) STRICT;
