-- intercom-bridge PostgreSQL schema, version 2: the exact bytes of a body that is not valid UTF-8.
-- `body` (text) holds the body decoded for display; a text column cannot hold invalid UTF-8, so such a body also keeps
-- its exact bytes here, base64. NULL for every valid UTF-8 body (nearly all of them).
ALTER TABLE records ADD COLUMN body_base64 text;
