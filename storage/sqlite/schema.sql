-- One row per event id through the unique (ts / span, id) index that event_keys.py makes: no index on the id alone.
CREATE TABLE IF NOT EXISTS events (
  id TEXT NOT NULL, ts INTEGER NOT NULL, agency TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_agency_ts ON events (agency, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
-- The free-text index of event.original, events_fts, is made by event_text.py: it fills it for an older file.

CREATE TABLE IF NOT EXISTS dead_letters (
  id TEXT PRIMARY KEY, received INTEGER NOT NULL, agency TEXT, path TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_path ON dead_letters (path, received);

CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, agency TEXT NOT NULL, rule_id TEXT NOT NULL, severity INTEGER NOT NULL,
  last_seen INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_agency_seen ON alerts (agency, last_seen);
CREATE INDEX IF NOT EXISTS alerts_seen ON alerts (last_seen);

CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, agency TEXT NOT NULL, state TEXT NOT NULL, fingerprint TEXT NOT NULL,
  rule_id TEXT NOT NULL, last_seen INTEGER NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_agency_state ON incidents (agency, state, last_seen);
CREATE INDEX IF NOT EXISTS incidents_fingerprint ON incidents (fingerprint, state);
CREATE INDEX IF NOT EXISTS incidents_seen ON incidents (last_seen);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, at INTEGER NOT NULL,
  object_type TEXT NOT NULL, object_id TEXT NOT NULL, agency TEXT, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_object ON audit (object_type, object_id, seq);
-- The audit trail is append-only: the database itself refuses changes and deletions.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;

CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, doc TEXT NOT NULL);

-- The chat outbox (storage/outbox.py): notices until the chat service accepted them; per channel oldest first.
CREATE TABLE IF NOT EXISTS chat_outbox (
  id TEXT PRIMARY KEY, channel TEXT NOT NULL, created INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_outbox_order ON chat_outbox (channel, created, id);
