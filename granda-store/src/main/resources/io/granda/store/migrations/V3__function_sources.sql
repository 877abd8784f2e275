-- Granda schema, version 3: functions built from source code.
-- A revision's runtime ('' for a function given as an image) and the files it was built from, so that the source
-- can be shown, edited and built again; deleting a revision (with its function) deletes its files.

ALTER TABLE function_revisions ADD COLUMN runtime TEXT NOT NULL DEFAULT '';

CREATE TABLE function_source_files (
    function_id TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    path        TEXT    NOT NULL,
    content     BLOB    NOT NULL,
    PRIMARY KEY (function_id, revision, path),
    FOREIGN KEY (function_id, revision) REFERENCES function_revisions (function_id, revision) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
