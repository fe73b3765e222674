-- One named block per query. Parameters are :named. {order} is filled from a whitelist.
-- A metadata or values filter matches a row when every filter member has a member of the
-- row with the same key, JSON type and value: true is not 1, "1" is not 1, a missing key is
-- not null. Members are paired by key through json_each, never by a path built from the
-- key, so quotes, dots or `$` in a key mean nothing special. Objects are stored and
-- compared as JSON text with sorted keys.

-- name: put_assistant
INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name, description,
                        version, created_at, updated_at)
VALUES (:assistant_id, :graph_id, :config, :context, :metadata, :name, :description,
        :version, :created_at, :updated_at)
ON CONFLICT (assistant_id) DO UPDATE SET
    graph_id = excluded.graph_id, config = excluded.config, context = excluded.context,
    metadata = excluded.metadata, name = excluded.name, description = excluded.description,
    version = excluded.version, updated_at = excluded.updated_at;

-- name: put_assistant_version
INSERT OR REPLACE INTO assistant_versions (assistant_id, version, graph_id, config, context,
                                           metadata, name, description, created_at)
VALUES (:assistant_id, :version, :graph_id, :config, :context, :metadata, :name, :description,
        :updated_at);

-- name: get_assistant
SELECT * FROM assistants WHERE assistant_id = :assistant_id;

-- name: delete_assistant
DELETE FROM assistants WHERE assistant_id = :assistant_id;

-- name: delete_assistant_versions
DELETE FROM assistant_versions WHERE assistant_id = :assistant_id;

-- name: search_assistants
SELECT *, count(*) OVER () AS total FROM assistants a
WHERE (:graph_id IS NULL OR graph_id = :graph_id)
  AND (:name IS NULL OR instr(casefold(name), casefold(:name)) > 0)
  AND NOT EXISTS (SELECT 1 FROM json_each(:metadata) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(a.metadata) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- name: assistant_versions
SELECT *, created_at AS updated_at FROM assistant_versions v
WHERE assistant_id = :assistant_id
  AND NOT EXISTS (SELECT 1 FROM json_each(:metadata) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(v.metadata) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
ORDER BY version DESC
LIMIT :limit OFFSET :offset;

-- name: assistant_version
SELECT *, created_at AS updated_at FROM assistant_versions
WHERE assistant_id = :assistant_id AND version = :version;

-- name: insert_thread
INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata, config,
                     status, state_values, interrupts, error)
VALUES (:thread_id, :created_at, :updated_at, :state_updated_at, :metadata, :config,
        :status, :state_values, :interrupts, :error);

-- name: get_thread
SELECT * FROM threads WHERE thread_id = :thread_id;

-- name: update_thread
UPDATE threads SET updated_at = :updated_at, state_updated_at = :state_updated_at,
    metadata = :metadata, config = :config, status = :status, state_values = :state_values,
    interrupts = :interrupts, error = :error
WHERE thread_id = :thread_id;

-- name: delete_thread
DELETE FROM threads WHERE thread_id = :thread_id;

-- name: delete_thread_runs
DELETE FROM runs WHERE thread_id = :thread_id;

-- name: delete_thread_interrupts
DELETE FROM interrupts WHERE thread_id = :thread_id;

-- name: search_threads
SELECT *, count(*) OVER () AS total FROM threads t
WHERE (:status IS NULL OR status = :status)
  AND (:ids IS NULL OR thread_id IN (SELECT value FROM json_each(:ids)))
  AND NOT EXISTS (SELECT 1 FROM json_each(:metadata) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(t.metadata) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
  AND NOT EXISTS (SELECT 1 FROM json_each(:values) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(t.state_values) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- name: insert_run
INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, available_at, status,
                  metadata, kwargs, multitask_strategy, attempt, output, temporary)
VALUES (:run_id, :thread_id, :assistant_id, :created_at, :updated_at, :available_at, :status,
        :metadata, :kwargs, :multitask_strategy, :attempt, :output, :temporary);

-- name: get_run
SELECT * FROM runs WHERE run_id = :run_id;

-- name: update_run
UPDATE runs SET updated_at = :updated_at, status = :status, metadata = :metadata,
    kwargs = :kwargs, attempt = :attempt, output = :output
WHERE run_id = :run_id;

-- name: delete_run
DELETE FROM runs WHERE run_id = :run_id;

-- name: list_runs
SELECT * FROM runs
WHERE thread_id = :thread_id AND (:status IS NULL OR status = :status)
ORDER BY seq DESC
LIMIT :limit OFFSET :offset;

-- name: inflight_runs
SELECT * FROM runs WHERE thread_id = :thread_id AND status IN ('pending', 'running') ORDER BY seq;

-- name: claim_next_run
UPDATE runs SET status = 'running', attempt = attempt + 1, updated_at = :now
WHERE run_id = (
    SELECT r.run_id FROM runs r
    WHERE r.status = 'pending' AND r.available_at <= :now
      AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id
                      AND (o.status = 'running' OR (o.status = 'pending' AND o.seq < r.seq)))
    ORDER BY r.seq LIMIT 1)
RETURNING *;

-- name: next_available_at
SELECT min(available_at) AS at FROM runs WHERE status = 'pending' AND available_at > :now;

-- name: runs_by_status
SELECT * FROM runs WHERE status IN (SELECT value FROM json_each(:statuses)) ORDER BY seq;

-- name: unanswer_interrupts
UPDATE interrupts SET answered_by_run = NULL, answered_at = NULL
WHERE thread_id = :thread_id AND answered_by_run = :run_id;

-- name: requeue_running
UPDATE runs SET status = 'pending' WHERE status = 'running' RETURNING *;

-- name: thread_interrupts
SELECT * FROM interrupts WHERE thread_id = :thread_id AND superseded = 0 ORDER BY created_at, rowid;

-- name: answer_interrupts
UPDATE interrupts SET answered_by_run = :run_id, answered_at = :now
WHERE thread_id = :thread_id AND answered_by_run IS NULL AND superseded = 0
  AND interrupt_id IN (SELECT value FROM json_each(:ids));

-- name: supersede_interrupts
UPDATE interrupts SET superseded = 1
WHERE thread_id = :thread_id AND answered_by_run IS NULL AND superseded = 0
  AND interrupt_id NOT IN (SELECT value FROM json_each(:keep));

-- name: upsert_interrupt
INSERT INTO interrupts (thread_id, interrupt_id, task_id, ns, value, response_schema, created_at)
VALUES (:thread_id, :interrupt_id, :task_id, :ns, :value, :response_schema, :created_at)
ON CONFLICT (thread_id, interrupt_id) DO UPDATE SET
    task_id = excluded.task_id, ns = excluded.ns, value = excluded.value,
    response_schema = excluded.response_schema, superseded = 0;


-- Rollback of a run in langgraph's own tables (checkpoints, writes; metadata is JSON text).
-- name: rollback_mark
CREATE TEMP TABLE IF NOT EXISTS waypost_doomed (checkpoint_id TEXT PRIMARY KEY);

-- name: rollback_clear
DELETE FROM waypost_doomed;

-- name: rollback_collect
INSERT INTO waypost_doomed
SELECT checkpoint_id FROM checkpoints
WHERE thread_id = :thread_id AND json_extract(CAST(metadata AS TEXT), '$.run_id') = :run_id;

-- name: rollback_writes
DELETE FROM writes
WHERE thread_id = :thread_id AND checkpoint_id IN (SELECT checkpoint_id FROM waypost_doomed);

-- name: rollback_checkpoints
DELETE FROM checkpoints
WHERE thread_id = :thread_id AND checkpoint_id IN (SELECT checkpoint_id FROM waypost_doomed);

-- The answers a run brought sit as __resume__ writes on the checkpoint it started from;
-- without them the interrupt it answered is pending again.
-- name: rollback_answers
DELETE FROM writes
WHERE thread_id = :thread_id AND channel = '__resume__' AND checkpoint_id = (
    SELECT checkpoint_id FROM checkpoints WHERE thread_id = :thread_id AND checkpoint_ns = ''
    ORDER BY checkpoint_id DESC LIMIT 1);
