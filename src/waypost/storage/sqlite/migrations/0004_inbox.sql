-- The inbox: what waits for people, when it is due, who is told, and what was decided.

-- An interrupt's plan: who should answer (assignees, a JSON list), by when (deadline) and
-- what happens then (on_deadline, JSON), with a reminder remind_before seconds ahead.
-- plan_version counts changes to the plan: a change (PATCH, an escalation) applies only
-- to the version it read, and a timer acts only on the version it was set for.
-- expired_at: the deadline expired it; it is no longer pending.
ALTER TABLE interrupts ADD COLUMN assignees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE interrupts ADD COLUMN deadline TEXT;
ALTER TABLE interrupts ADD COLUMN on_deadline TEXT;
ALTER TABLE interrupts ADD COLUMN remind_before REAL;
ALTER TABLE interrupts ADD COLUMN plan_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interrupts ADD COLUMN expired_at TEXT;
-- The inbox lists pending interrupts newest first (or by deadline) from these indexes, never
-- by a scan: their condition is the one every pending query spells out.
CREATE INDEX interrupts_pending ON interrupts (created_at)
    WHERE answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL;
CREATE INDEX interrupts_pending_deadline ON interrupts (deadline)
    WHERE answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL AND deadline IS NOT NULL;
CREATE INDEX interrupts_by_id ON interrupts (interrupt_id);
CREATE INDEX interrupts_answered ON interrupts (answered_at) WHERE answered_by_run IS NOT NULL;

-- The durable scheduler: one row per thing due at a time (an interrupt's deadline or its
-- reminder). Whoever deletes the row fires it, in the transaction that applies its effect:
-- once, from whichever process gets there first. Delayed runs wait in `runs` (available_at).
CREATE TABLE timers (
    timer_id   TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    due_at     TEXT NOT NULL,
    thread_id  TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    plan_version INTEGER NOT NULL
);
CREATE INDEX timers_due ON timers (due_at);

-- Notifications waiting to be delivered, written in the transaction of the event they tell
-- of, so a crash loses none. A sender claims a row by pushing next_attempt_at past its
-- attempt's timeout (attempts + 1); its result applies only to that attempt.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    secret_env      TEXT,
    static_headers  INTEGER NOT NULL DEFAULT 0,
    thread_id       TEXT,
    interrupt_id    TEXT,
    run_id          TEXT,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    settled_attempts INTEGER NOT NULL DEFAULT 0,  -- attempts whose outcome is written: an attempt settles once
    status          TEXT NOT NULL DEFAULT 'pending',
    last_error      TEXT,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- Who decided what: answers (applied or refused), deadline actions, assignment changes and
-- notification deliveries. Append-only: no statement here updates or deletes a row, and
-- these triggers refuse any that tries.
CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    event        TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    thread_id    TEXT,
    interrupt_id TEXT,
    run_id       TEXT,
    identity     TEXT NOT NULL,
    request_id   TEXT,
    client       TEXT,
    reason       TEXT,
    detail       TEXT
);
CREATE INDEX audit_thread ON audit (thread_id, seq);
CREATE INDEX audit_interrupt ON audit (interrupt_id, seq);
CREATE INDEX audit_identity ON audit (identity, seq);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
