-- Granda schema, version 4: per-minute usage aggregates, for billing-grade usage series.
-- Usage over weeks and months is read from these rows rather than summed from the raw records each time, and the
-- rows outlive the raw records: records are purged after their retention, aggregates are kept longer (for bills
-- that compare years). Every stored record is added to its row in the same transaction as its insert, so the
-- aggregates and the records can never disagree about a call.

-- One row per tenant, function and UTC minute (by the call's start) with calls. minute_us is the minute's start in
-- microseconds since the epoch, like every other instant. The sums are exactly what summing the minute's records
-- gives (see InvocationQueries.USAGE): compute_ms sums each call's wall time truncated to whole milliseconds, and
-- cpu_us only the calls whose CPU time the backend could read (cpu_us >= 0 on the record).
-- function_name is the name on the latest call in the minute, last_start_us that call's start: it decides which
-- name wins when a later batch adds calls to the minute, so a rename shows from the minute it happened.
-- WITHOUT ROWID: the rows are small and always found by their key, which is then stored only once.
CREATE TABLE usage_minutes (
    tenant        TEXT    NOT NULL,
    function_id   TEXT    NOT NULL,
    minute_us     INTEGER NOT NULL CHECK (minute_us % 60000000 = 0),
    calls         INTEGER NOT NULL CHECK (calls > 0),
    errors        INTEGER NOT NULL,
    timeouts      INTEGER NOT NULL,
    out_of_memory INTEGER NOT NULL,
    cold_starts   INTEGER NOT NULL,
    compute_ms    INTEGER NOT NULL,
    billed_ms     INTEGER NOT NULL,
    mb_ms         INTEGER NOT NULL,
    cpu_us        INTEGER NOT NULL,
    function_name TEXT    NOT NULL,
    last_start_us INTEGER NOT NULL,
    PRIMARY KEY (tenant, function_id, minute_us)
) STRICT, WITHOUT ROWID;

-- The primary key answers a series of one tenant's function. The other three ways a series is asked for each get
-- an index that starts with what is known and ends with the window, so a query reads only its window's rows:
-- every tenant (and purging aggregates, oldest minute first),
CREATE INDEX usage_minutes_by_minute ON usage_minutes (minute_us);
-- one tenant, every function (the usage page of a tenant),
CREATE INDEX usage_minutes_by_tenant_minute ON usage_minutes (tenant, minute_us);
-- one function, tenant not given (function ids are unique across tenants).
CREATE INDEX usage_minutes_by_function_minute ON usage_minutes (function_id, minute_us);
-- The raw records need no new index: export by window and function reads invocations_by_function_start, export by
-- window (of every tenant, or of one, filtered as it reads) and purging records read invocations_by_start; both
-- end in seq (SQLite appends the rowid to every index), which is the order export pages by. An index by tenant
-- would cost every insert on the hot path of metering for a filter that, with the few tenants of a self-hosted
-- platform, hardly narrows the window.

-- Backfill from the records already stored, so that an upgraded database's series agree with its records. The
-- minute is floored, not truncated: SQLite's % and / round towards zero, which would put a call before 1970 into
-- the next minute. Within a minute the latest call names the function; of calls that started in the same
-- microsecond, the first stored (lowest seq), as appending one at a time would have left it.
WITH minuted AS (
    SELECT seq, tenant, function_id, function_name, start_us, end_us, outcome, cold, billed_ms, mb_ms, cpu_us,
           start_us - ((start_us % 60000000) + 60000000) % 60000000 AS minute_us
    FROM invocations
), ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY tenant, function_id, minute_us
                                 ORDER BY start_us DESC, seq ASC) AS recency
    FROM minuted
)
INSERT INTO usage_minutes (tenant, function_id, minute_us, calls, errors, timeouts, out_of_memory, cold_starts,
                           compute_ms, billed_ms, mb_ms, cpu_us, function_name, last_start_us)
SELECT tenant, function_id, minute_us,
       COUNT(*),
       SUM(outcome = 'FUNCTION_ERROR'),
       SUM(outcome = 'TIMEOUT'),
       SUM(outcome = 'OUT_OF_MEMORY'),
       SUM(cold),
       SUM((end_us - start_us) / 1000),
       SUM(billed_ms),
       SUM(mb_ms),
       SUM(MAX(cpu_us, 0)),
       MAX(CASE WHEN recency = 1 THEN function_name END),
       MAX(start_us)
FROM ranked
GROUP BY tenant, function_id, minute_us;
