-- Runs are held by one worker under a lease renewed by heartbeat, and a cancel is a request
-- stored on the run that its holder honours. The database, not a process lock, keeps one
-- running run per thread.
ALTER TABLE runs ADD COLUMN cancel_action TEXT;
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until REAL;
-- The answers a resume run carries, {interrupt_id: value}, as resolved when it was accepted.
ALTER TABLE runs ADD COLUMN answers TEXT;
CREATE UNIQUE INDEX runs_one_running ON runs (thread_id) WHERE status = 'running';
CREATE INDEX runs_leases ON runs (lease_until) WHERE status = 'running';

-- superseded becomes the run that superseded the interrupt: provisional until that run
-- ends, and undone if it never touched the checkpoint.
ALTER TABLE interrupts ADD COLUMN superseded_by TEXT;
UPDATE interrupts SET superseded_by = '' WHERE superseded = 1;
ALTER TABLE interrupts DROP COLUMN superseded;
-- Where an interrupt came from: an answer must come through an assistant of its graph.
ALTER TABLE interrupts ADD COLUMN run_id TEXT;
ALTER TABLE interrupts ADD COLUMN assistant_id TEXT;
ALTER TABLE interrupts ADD COLUMN graph_id TEXT;
CREATE INDEX interrupts_answered_by ON interrupts (answered_by_run) WHERE answered_by_run IS NOT NULL;

-- A thread whose last run stopped at a static breakpoint rests `interrupted`.
ALTER TABLE threads ADD COLUMN at_breakpoint INTEGER NOT NULL DEFAULT 0;
-- A state update holds the thread (no run may start) until it ends or this time passes.
ALTER TABLE threads ADD COLUMN locked_until REAL;

-- What a run found on the checkpoints it continues from (the newest in each namespace it
-- answers into), saved when it is claimed: a rollback deletes the run's own checkpoints
-- and puts these writes back, so the thread is exactly where it was.
CREATE TABLE run_saved_heads (
    run_id        TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    PRIMARY KEY (run_id, checkpoint_ns)
);
CREATE TABLE run_saved_writes (
    run_id        TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    task_path     TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    type          TEXT,
    value         BLOB,
    PRIMARY KEY (run_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
