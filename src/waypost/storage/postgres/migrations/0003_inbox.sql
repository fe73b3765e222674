-- The inbox: what waits for people, when it is due, who is told, and what was decided.
-- The same tables as SQLite's 0004_inbox.sql; comments there.

ALTER TABLE interrupts ADD COLUMN assignees jsonb NOT NULL DEFAULT '[]';
ALTER TABLE interrupts ADD COLUMN deadline timestamptz;
ALTER TABLE interrupts ADD COLUMN on_deadline json;
ALTER TABLE interrupts ADD COLUMN remind_before double precision;
ALTER TABLE interrupts ADD COLUMN plan_version integer NOT NULL DEFAULT 0;
ALTER TABLE interrupts ADD COLUMN expired_at timestamptz;
CREATE INDEX interrupts_pending ON interrupts (created_at, seq)
    WHERE answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL;
CREATE INDEX interrupts_pending_deadline ON interrupts (deadline, seq)
    WHERE answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL AND deadline IS NOT NULL;
CREATE INDEX interrupts_by_id ON interrupts (interrupt_id);
CREATE INDEX interrupts_answered ON interrupts (answered_at) WHERE answered_by_run IS NOT NULL;

CREATE TABLE timers (
    timer_id     text PRIMARY KEY,
    kind         text NOT NULL,
    due_at       timestamptz NOT NULL,
    thread_id    text NOT NULL,
    interrupt_id text NOT NULL,
    plan_version integer NOT NULL
);
CREATE INDEX timers_due ON timers (due_at);

CREATE TABLE outbox (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     text NOT NULL UNIQUE,
    event           text NOT NULL,
    url             text NOT NULL,
    body            json NOT NULL,
    secret_env      text,
    static_headers  boolean NOT NULL DEFAULT false,
    thread_id       text,
    interrupt_id    text,
    run_id          text,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    settled_attempts integer NOT NULL DEFAULT 0,  -- attempts whose outcome is written: an attempt settles once
    status          text NOT NULL DEFAULT 'pending',
    last_error      text,
    delivered_at    timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE audit (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL,
    event        text NOT NULL,
    outcome      text NOT NULL,
    thread_id    text,
    interrupt_id text,
    run_id       text,
    identity     text NOT NULL,
    request_id   text,
    client       text,
    reason       text,
    detail       json
);
CREATE INDEX audit_thread ON audit (thread_id, seq);
CREATE INDEX audit_interrupt ON audit (interrupt_id, seq);
CREATE INDEX audit_identity ON audit (identity, seq);
CREATE INDEX audit_at ON audit (at);
CREATE FUNCTION waypost_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION waypost_audit_append_only();
