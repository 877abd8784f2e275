-- Granda schema, version 5: invocation records keyed by their invocation id, for cheaper appends.
-- Appending a record was the cost of metering: up to version 4 every insert wrote five b-trees (the rowid table,
-- the UNIQUE index on invocation_id and three indexes), two of them at scattered positions (one place per
-- function). Now a record writes three:
--   * the table itself, WITHOUT ROWID and keyed by invocation_id. Ids are time-ordered (io.granda.core.Ids), so
--     inserts land near the end of the b-tree; and the key is the uniqueness check that makes a retried record a
--     no-op, so no separate unique index is needed;
--   * (function_id, start_us): a WITHOUT ROWID table's index carries the primary key, so this is really
--     (function_id, start_us, invocation_id), which serves one function's usage over a window and paging its
--     records newest first by (start_us, invocation_id). That made the (function_id, seq) index redundant;
--   * (start_us), really (start_us, invocation_id): usage of every function, export (ordered by start, then id)
--     and purging oldest first.
-- seq (the arrival order) is gone: nothing orders by it any more. Records that started in the same microsecond
-- are ordered by their invocation id instead, in listing and in export alike.
-- WITHOUT ROWID suits these rows: a few hundred bytes at most, far below the size where SQLite advises against it.

CREATE TABLE invocations_v5 (
    invocation_id   TEXT    NOT NULL PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    function_id     TEXT    NOT NULL,
    function_name   TEXT    NOT NULL,
    revision        INTEGER NOT NULL,
    start_us        INTEGER NOT NULL,
    end_us          INTEGER NOT NULL,
    queue_us        INTEGER NOT NULL,
    pull_us         INTEGER NOT NULL,
    create_start_us INTEGER NOT NULL,
    init_us         INTEGER NOT NULL,
    run_us          INTEGER NOT NULL,
    memory_mb       INTEGER NOT NULL,
    cpu_us          INTEGER NOT NULL,
    outcome         TEXT    NOT NULL,
    exit_code       INTEGER NOT NULL,
    cold            INTEGER NOT NULL CHECK (cold IN (0, 1)),
    request_bytes   INTEGER NOT NULL,
    response_bytes  INTEGER NOT NULL,
    billed_ms       INTEGER NOT NULL,
    mb_ms           INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Every record and every column, copied in key order (read through the old unique index) so that the new b-tree
-- is built by appending; the indexes are made afterwards, each from one sort, rather than grown row by row.
INSERT INTO invocations_v5 (invocation_id, tenant, function_id, function_name, revision, start_us, end_us, queue_us,
                            pull_us, create_start_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold,
                            request_bytes, response_bytes, billed_ms, mb_ms)
SELECT invocation_id, tenant, function_id, function_name, revision, start_us, end_us, queue_us,
       pull_us, create_start_us, init_us, run_us, memory_mb, cpu_us, outcome, exit_code, cold,
       request_bytes, response_bytes, billed_ms, mb_ms
FROM invocations
ORDER BY invocation_id;

-- Dropping the table drops its three indexes and its AUTOINCREMENT counter with it.
DROP TABLE invocations;
ALTER TABLE invocations_v5 RENAME TO invocations;

-- One function's usage over a window, and its records newest first (by start, then id).
CREATE INDEX invocations_by_function_start ON invocations (function_id, start_us);
-- Usage of every function over a window, export (by start, then id) and purging oldest first.
CREATE INDEX invocations_by_start ON invocations (start_us);
