-- Waypost's own tables, as SQLite's migrations leave them. Checkpoints live in langgraph's
-- tables (AsyncPostgresSaver creates them), in the same schema.
--
-- Types: jsonb where SQL looks inside the value (metadata and state values are filtered
-- key by key, metadata is merged); json where the value is only stored and handed back,
-- which keeps it exactly as written, key order included, as SQLite does. timestamptz for
-- every time; `seq` (bigint identity) orders rows that tie on a timestamp, as SQLite's rowid.

CREATE TABLE assistants (
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    assistant_id text PRIMARY KEY,
    graph_id     text NOT NULL,
    config       json NOT NULL,
    context      json NOT NULL,
    metadata     jsonb NOT NULL,
    name         text NOT NULL,
    description  text,
    version      integer NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE assistant_versions (
    assistant_id text NOT NULL REFERENCES assistants (assistant_id) ON DELETE CASCADE,
    version      integer NOT NULL,
    graph_id     text NOT NULL,
    config       json NOT NULL,
    context      json NOT NULL,
    metadata     jsonb NOT NULL,
    name         text NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    thread_id        text PRIMARY KEY,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    state_updated_at timestamptz NOT NULL,
    metadata         jsonb NOT NULL,
    config           json NOT NULL,
    status           text NOT NULL,
    state_values     jsonb,
    interrupts       json NOT NULL,
    error            json,
    -- The last run stopped at a static breakpoint: the thread rests `interrupted`.
    at_breakpoint    boolean NOT NULL DEFAULT false,
    -- A state update holds the thread (no run may start) until it ends or this time passes.
    locked_until     timestamptz
);
CREATE INDEX threads_status ON threads (status, created_at);
CREATE INDEX threads_created ON threads (created_at);

-- seq orders the queue; available_at delays a run (after_seconds). A running run is held by
-- one worker (lease_owner) until lease_until, renewed by heartbeat; cancel_action is a cancel
-- its holder honours. answers: {interrupt_id: value}, as resolved when the run was accepted.
CREATE TABLE runs (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id             text NOT NULL UNIQUE,
    thread_id          text NOT NULL,
    assistant_id       text NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    available_at       timestamptz NOT NULL,
    status             text NOT NULL,
    metadata           json NOT NULL,
    kwargs             json NOT NULL,
    multitask_strategy text NOT NULL,
    attempt            integer NOT NULL DEFAULT 0,
    output             json,
    temporary          boolean NOT NULL DEFAULT false,
    cancel_action      text,
    lease_owner        text,
    lease_until        timestamptz,
    answers            json
);
CREATE INDEX runs_queue ON runs (status, seq);
CREATE INDEX runs_thread ON runs (thread_id, status, seq);
-- The database, not a process lock, keeps one running run per thread.
CREATE UNIQUE INDEX runs_one_running ON runs (thread_id) WHERE status = 'running';
CREATE INDEX runs_leases ON runs (lease_until) WHERE status = 'running';

-- One row per interrupt a thread has raised. answered_by_run makes answers exactly-once: a
-- resume claims its interrupts with `... WHERE answered_by_run IS NULL` in the transaction
-- that inserts its run. superseded_by: the run whose new input made it moot (provisional
-- until that run ends). run_id, assistant_id, graph_id: where it came from.
CREATE TABLE interrupts (
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    thread_id       text NOT NULL,
    interrupt_id    text NOT NULL,
    task_id         text NOT NULL,
    ns              json NOT NULL,
    value           json NOT NULL,
    response_schema json,
    created_at      timestamptz NOT NULL,
    answered_by_run text,
    answered_at     timestamptz,
    superseded_by   text,
    run_id          text,
    assistant_id    text,
    graph_id        text,
    PRIMARY KEY (thread_id, interrupt_id)
);
CREATE INDEX interrupts_answered_by ON interrupts (answered_by_run) WHERE answered_by_run IS NOT NULL;

-- What a run found on the checkpoints it continues from (the newest in each namespace it
-- answers into), saved when it is claimed: a rollback deletes the run's own checkpoints and
-- puts these writes back, so the thread is exactly where it was. Copies of langgraph's
-- checkpoint_writes rows (its `blob` is `value` here).
CREATE TABLE run_saved_heads (
    run_id        text NOT NULL,
    thread_id     text NOT NULL,
    checkpoint_ns text NOT NULL,
    checkpoint_id text NOT NULL,
    PRIMARY KEY (run_id, checkpoint_ns)
);
CREATE TABLE run_saved_writes (
    run_id        text NOT NULL,
    thread_id     text NOT NULL,
    checkpoint_ns text NOT NULL,
    checkpoint_id text NOT NULL,
    task_id       text NOT NULL,
    task_path     text NOT NULL,
    idx           integer NOT NULL,
    channel       text NOT NULL,
    type          text,
    value         bytea,
    PRIMARY KEY (run_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
