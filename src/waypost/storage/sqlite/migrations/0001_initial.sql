-- Waypost's own tables. Checkpoints live in langgraph's tables (AsyncSqliteSaver), same file.

CREATE TABLE assistants (
    assistant_id TEXT PRIMARY KEY,
    graph_id     TEXT NOT NULL,
    config       TEXT NOT NULL,
    context      TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    version      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE assistant_versions (
    assistant_id TEXT NOT NULL REFERENCES assistants(assistant_id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    graph_id     TEXT NOT NULL,
    config       TEXT NOT NULL,
    context      TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
    thread_id        TEXT PRIMARY KEY,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    state_updated_at TEXT NOT NULL,
    metadata         TEXT NOT NULL,
    config           TEXT NOT NULL,
    status           TEXT NOT NULL,
    state_values     TEXT,
    interrupts       TEXT NOT NULL,
    error            TEXT
);
CREATE INDEX threads_status ON threads (status, created_at);
CREATE INDEX threads_created ON threads (created_at);

-- seq orders the queue; available_at delays a run (after_seconds).
CREATE TABLE runs (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             TEXT NOT NULL UNIQUE,
    thread_id          TEXT NOT NULL,
    assistant_id       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    available_at       TEXT NOT NULL,
    status             TEXT NOT NULL,
    metadata           TEXT NOT NULL,
    kwargs             TEXT NOT NULL,
    multitask_strategy TEXT NOT NULL,
    attempt            INTEGER NOT NULL DEFAULT 0,
    output             TEXT,
    temporary          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_queue ON runs (status, seq);
CREATE INDEX runs_thread ON runs (thread_id, status, seq);

-- One row per interrupt a thread has raised. answered_by_run makes answers exactly-once:
-- a resume claims its interrupts with `... WHERE answered_by_run IS NULL` in the same
-- transaction that inserts its run. superseded marks interrupts a later run abandoned.
CREATE TABLE interrupts (
    thread_id       TEXT NOT NULL,
    interrupt_id    TEXT NOT NULL,
    task_id         TEXT NOT NULL,
    ns              TEXT NOT NULL,
    value           TEXT NOT NULL,
    response_schema TEXT,
    created_at      TEXT NOT NULL,
    answered_by_run TEXT,
    answered_at     TEXT,
    superseded      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (thread_id, interrupt_id)
);
