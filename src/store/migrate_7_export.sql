-- dmarc-sink store, schema version 7: how far each export has shipped.

-- The highest rowid of each table that an export target holds. A target is
-- one database and instance (`export.postgres`: the URL without its password,
-- and the instance name); rows above last_id are shipped next. Written only
-- after the export's own database committed the batch, so a crash between
-- the two ships that batch again (the target ignores rows it holds).
CREATE TABLE export_watermarks (
    target     TEXT    NOT NULL,
    table_name TEXT    NOT NULL,
    last_id    INTEGER NOT NULL,
    PRIMARY KEY (target, table_name)
);

-- Messages whose rows were rewritten in place (`reparse`): reports updated,
-- records deleted and written again. Append-only; each export target keeps
-- its own watermark on `seq` (table_name 'export_rewrites') and replaces
-- what it holds of each message logged after it.
CREATE TABLE export_rewrites (
    seq     INTEGER PRIMARY KEY,
    message INTEGER NOT NULL
);
