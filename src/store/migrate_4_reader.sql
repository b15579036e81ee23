-- dmarc-sink store, schema version 4: which reader read each message.
--
-- Version 2 of the reader walks MIME over the bytes as received. Messages
-- read by version 1 (every message stored before this migration) may hold
-- values that reporter never sent (a charset decoded twice, a header field
-- read from a modified copy) or have missed a report; `dmarc-sink reparse`
-- reads them again and rewrites what they stored.
ALTER TABLE messages ADD COLUMN reader INTEGER NOT NULL DEFAULT 1;
