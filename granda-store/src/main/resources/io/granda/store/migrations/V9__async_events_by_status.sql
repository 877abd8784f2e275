-- Granda schema, version 9: an index for the event queue's gauges (granda_events, granda_events_oldest_due_age_seconds).
-- Numbered 9 because 8 is taken by a change made beside this one; it depends on V6 only.
--
-- The gauges count events per status and find the earliest due pending event at every scrape. V6's indexes cannot
-- answer that without reading the table: async_events_pending leads with the function, and no index holds dead
-- events by status. This one holds every event but the succeeded ones (the bulk of the table until they are purged,
-- and never counted), ordered by status and then due time: a count is a covering scan of the statuses counted, and
-- the earliest due event of a status is the first entry of its range.
-- A query uses it only when its WHERE clause repeats this one word for word (SQLite's rule for partial indexes).
CREATE INDEX async_events_by_status ON async_events (status, next_attempt_us)
    WHERE status IN ('QUEUED', 'RUNNING', 'FAILED', 'DEAD');
