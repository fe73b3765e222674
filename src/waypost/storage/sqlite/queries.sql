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

-- Searches also apply the conditions an authorization handler returned: :required holds
-- exact matches, :contains keys whose list must hold every value given.
-- name: search_assistants
SELECT *, count(*) OVER () AS total FROM assistants a
WHERE (:graph_id IS NULL OR graph_id = :graph_id)
  AND (:name IS NULL OR instr(casefold(name), casefold(:name)) > 0)
  AND {holds:a}
  AND {allowed:a}
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- name: assistant_versions
SELECT *, created_at AS updated_at FROM assistant_versions v
WHERE assistant_id = :assistant_id
  AND {holds:v}
ORDER BY version DESC
LIMIT :limit OFFSET :offset;

-- name: assistant_version
SELECT *, created_at AS updated_at FROM assistant_versions
WHERE assistant_id = :assistant_id AND version = :version;

-- name: insert_thread
INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata, config,
                     status, state_values, interrupts, error)
VALUES (:thread_id, :created_at, :updated_at, :state_updated_at, :metadata, :config,
        :status, :state_values, :interrupts, :error)
ON CONFLICT (thread_id) DO NOTHING;

-- name: get_thread
SELECT * FROM threads WHERE thread_id = :thread_id;

-- What executing or queueing a run needs, in one look: its thread and its assistant (either
-- may be gone; the assistant's columns are prefixed a_), and whether a state update holds the
-- thread (rows.run_setting).
-- name: run_setting
SELECT t.thread_id, t.created_at, t.updated_at, t.state_updated_at, t.metadata, t.config, t.status,
       t.state_values, t.interrupts, t.error, t.at_breakpoint, coalesce(t.locked_until >= :now, 0) AS state_held,
       a.assistant_id AS a_assistant_id, a.graph_id AS a_graph_id, a.config AS a_config,
       a.context AS a_context, a.metadata AS a_metadata, a.name AS a_name,
       a.description AS a_description, a.version AS a_version, a.created_at AS a_created_at,
       a.updated_at AS a_updated_at
FROM (SELECT 1) AS one
LEFT JOIN threads t ON t.thread_id = :thread_id
LEFT JOIN assistants a ON a.assistant_id = :assistant_id;

-- name: set_thread_metadata
UPDATE threads SET metadata = :metadata, updated_at = :now WHERE thread_id = :thread_id RETURNING *;

-- name: set_thread_status
UPDATE threads SET status = :status, updated_at = :now WHERE thread_id = :thread_id;

-- name: record_thread_state
UPDATE threads SET state_values = :state_values, interrupts = :interrupts, status = :status,
    error = :error, at_breakpoint = :at_breakpoint, updated_at = :now, state_updated_at = :now
WHERE thread_id = :thread_id;

-- A state update holds the thread only when no run is in flight on it and no other update
-- holds it; the claim below skips held threads.
-- name: lock_thread_state
UPDATE threads SET locked_until = :until
WHERE thread_id = :thread_id AND (locked_until IS NULL OR locked_until < :now)
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.thread_id = :thread_id
                  AND runs.status IN ('pending', 'running'));

-- name: unlock_thread_state
UPDATE threads SET locked_until = NULL WHERE thread_id = :thread_id;

-- name: delete_thread
DELETE FROM threads WHERE thread_id = :thread_id;

-- name: delete_thread_runs
DELETE FROM runs WHERE thread_id = :thread_id;

-- name: delete_thread_interrupts
DELETE FROM interrupts WHERE thread_id = :thread_id;

-- name: delete_thread_saved_heads
DELETE FROM run_saved_heads WHERE thread_id = :thread_id;

-- name: delete_thread_saved_writes
DELETE FROM run_saved_writes WHERE thread_id = :thread_id;

-- name: search_threads
SELECT *, count(*) OVER () AS total FROM threads t
WHERE (:status IS NULL OR status = :status)
  AND (:ids IS NULL OR thread_id IN (SELECT value FROM json_each(:ids)))
  AND {holds:t}
  AND NOT EXISTS (SELECT 1 FROM json_each(:values) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(t.state_values) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
  AND {allowed:t}
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- name: insert_run
INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, available_at, status,
                  metadata, kwargs, multitask_strategy, attempt, output, temporary, answers)
VALUES (:run_id, :thread_id, :assistant_id, :created_at, :updated_at, :available_at, :status,
        :metadata, :kwargs, :multitask_strategy, :attempt, :output, :temporary, :answers);

-- A run claimed as it is queued (Tx.insert_started_run): as claim_runs leaves one.
-- name: insert_started_run
INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, available_at, status,
                  metadata, kwargs, multitask_strategy, attempt, output, temporary, answers,
                  lease_owner, lease_until)
VALUES (:run_id, :thread_id, :assistant_id, :created_at, :updated_at, :available_at, 'running',
        :metadata, :kwargs, :multitask_strategy, 1, :output, :temporary, :answers,
        :worker, :lease_until);

-- name: get_run
SELECT * FROM runs WHERE run_id = :run_id;

-- name: delete_finished_run
DELETE FROM runs WHERE run_id = :run_id AND status NOT IN ('pending', 'running');

-- name: list_runs
SELECT * FROM runs
WHERE thread_id = :thread_id AND (:status IS NULL OR status = :status)
ORDER BY seq DESC
LIMIT :limit OFFSET :offset;

-- name: inflight_runs
SELECT * FROM runs WHERE thread_id = :thread_id AND status IN ('pending', 'running') ORDER BY seq;

-- name: runs_by_status
SELECT * FROM runs WHERE status IN (SELECT value FROM json_each(:statuses)) ORDER BY seq;

-- The queue. A run is runnable when it is due, its thread has no running run and no older
-- pending one (runs on a thread go one at a time, in order), and no state update holds the
-- thread. The unique index runs_one_running backs the first rule.
-- name: claim_runs
UPDATE runs SET status = 'running', attempt = attempt + 1, updated_at = :now_iso,
    lease_owner = :worker, lease_until = :now + :lease_s
WHERE run_id IN (
    SELECT r.run_id FROM runs r
    WHERE r.status = 'pending' AND r.available_at <= :now_iso
      AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id
                      AND (o.status = 'running' OR (o.status = 'pending' AND o.seq < r.seq)))
      AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.thread_id = r.thread_id
                      AND t.locked_until >= :now)
    ORDER BY r.seq LIMIT :limit)
RETURNING *;

-- The newest checkpoint of each namespace a claimed run continues from, and its writes,
-- saved for an exact rollback (see run_saved_heads in the migrations).
-- name: save_heads
INSERT INTO run_saved_heads (run_id, thread_id, checkpoint_ns, checkpoint_id)
SELECT :run_id, :thread_id, checkpoint_ns, max(checkpoint_id) FROM checkpoints
WHERE thread_id = :thread_id AND checkpoint_ns IN (SELECT value FROM json_each(:namespaces))
GROUP BY checkpoint_ns;

-- name: save_writes
INSERT INTO run_saved_writes (run_id, thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
                              idx, channel, type, value)
SELECT :run_id, w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.idx,
       w.channel, w.type, w.value
FROM writes w JOIN run_saved_heads h
  ON h.run_id = :run_id AND w.thread_id = h.thread_id AND w.checkpoint_ns = h.checkpoint_ns
 AND w.checkpoint_id = h.checkpoint_id;

-- name: discard_saved_heads
DELETE FROM run_saved_heads WHERE run_id = :run_id;

-- name: discard_saved_writes
DELETE FROM run_saved_writes WHERE run_id = :run_id;

-- Delayed runs for the scheduler: did one become runnable since its last look (it then wakes
-- the worker), and when does the next one.
-- name: run_times
SELECT coalesce(max(available_at <= :now_iso), 0) AS became_due,
       min(CASE WHEN available_at > :now_iso THEN available_at END) AS next_at,
       :now_iso AS now
FROM runs WHERE status = 'pending' AND available_at > :since;

-- name: renew_lease
UPDATE runs SET lease_until = :now + :lease_s
WHERE run_id = :run_id AND attempt = :attempt AND status = 'running' AND lease_owner = :worker
RETURNING cancel_action;

-- A cancel asked before the end is recorded wins: the holder then ends the run as asked.
-- name: finish_run
UPDATE runs SET status = :status, output = :output, updated_at = :now,
    lease_owner = NULL, lease_until = NULL
WHERE run_id = :run_id AND attempt = :attempt AND status = 'running' AND cancel_action IS NULL;

-- name: end_cancelled_run
UPDATE runs SET status = 'interrupted', output = :output, updated_at = :now,
    lease_owner = NULL, lease_until = NULL
WHERE run_id = :run_id AND attempt = :attempt AND status = 'running';

-- name: drop_held_run
DELETE FROM runs WHERE run_id = :run_id AND attempt = :attempt AND status = 'running';

-- A run with a cancel pending is not handed back: its holder ends it as asked.
-- name: release_run
UPDATE runs SET status = 'pending', lease_owner = NULL, lease_until = NULL
WHERE run_id = :run_id AND attempt = :attempt AND status = 'running' AND lease_owner = :worker
  AND cancel_action IS NULL;

-- name: cancel_pending_run
UPDATE runs SET status = 'interrupted', updated_at = :now WHERE run_id = :run_id AND status = 'pending';

-- name: drop_pending_run
DELETE FROM runs WHERE run_id = :run_id AND status = 'pending';

-- name: request_cancel
UPDATE runs SET cancel_action = CASE WHEN cancel_action = 'rollback' THEN 'rollback' ELSE :action END
WHERE run_id = :run_id AND status = 'running';

-- name: expire_leases
UPDATE runs SET status = 'pending', lease_owner = NULL, lease_until = NULL
WHERE status = 'running' AND lease_until < :now AND lease_owner IS NOT :worker AND cancel_action IS NULL;

-- name: take_over_cancelled
UPDATE runs SET lease_owner = :worker, lease_until = :now + :lease_s, attempt = attempt + 1
WHERE status = 'running' AND lease_until < :now AND lease_owner IS NOT :worker
  AND cancel_action IS NOT NULL
RETURNING *;

-- name: forget_leases
UPDATE runs SET lease_until = 0 WHERE status = 'running';

-- name: thread_interrupts
SELECT * FROM interrupts WHERE thread_id = :thread_id AND (:superseded OR superseded_by IS NULL)
ORDER BY created_at, rowid;

-- name: interrupts_in_play
SELECT * FROM interrupts
WHERE thread_id = :thread_id
  AND ((answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL)
       OR interrupt_id IN (SELECT value FROM json_each(:ids)))
ORDER BY created_at, rowid;

-- name: answer_interrupts
UPDATE interrupts SET answered_by_run = :run_id, answered_at = :now, answered_by = :answered_by
WHERE thread_id = :thread_id AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
  AND interrupt_id IN (SELECT value FROM json_each(:ids));

-- name: release_answers
UPDATE interrupts SET answered_by_run = NULL, answered_at = NULL, answered_by = NULL
WHERE thread_id = :thread_id AND answered_by_run = :run_id
  AND (:ids IS NULL OR interrupt_id IN (SELECT value FROM json_each(:ids)));

-- name: supersede_interrupts
UPDATE interrupts SET superseded_by = :run_id
WHERE thread_id = :thread_id AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
  AND interrupt_id NOT IN (SELECT value FROM json_each(:keep));

-- name: restore_superseded
UPDATE interrupts SET superseded_by = NULL
WHERE thread_id = :thread_id AND superseded_by = :run_id
  AND (:ids IS NULL OR interrupt_id IN (SELECT value FROM json_each(:ids)));

-- An interrupt raised again keeps its claim, its supersede, its plan and where it first came
-- from.
-- name: upsert_interrupt
INSERT INTO interrupts (thread_id, interrupt_id, task_id, ns, value, response_schema, created_at,
                        run_id, assistant_id, graph_id, assignees, deadline, on_deadline, remind_before)
VALUES (:thread_id, :interrupt_id, :task_id, :ns, :value, :response_schema, :created_at,
        :run_id, :assistant_id, :graph_id, :assignees, :deadline, :on_deadline, :remind_before)
ON CONFLICT (thread_id, interrupt_id) DO UPDATE SET
    task_id = excluded.task_id, ns = excluded.ns, value = excluded.value,
    response_schema = excluded.response_schema;


-- Rollback of a run in langgraph's own tables (checkpoints, writes; metadata is JSON text).
-- langgraph's SQLite saver has no call to delete a run's checkpoints or to restore writes.
-- name: rollback_run_writes
DELETE FROM writes
WHERE thread_id = :thread_id AND checkpoint_id IN (
    SELECT checkpoint_id FROM checkpoints
    WHERE thread_id = :thread_id AND json_extract(CAST(metadata AS TEXT), '$.run_id') = :run_id);

-- name: rollback_run_checkpoints
DELETE FROM checkpoints
WHERE thread_id = :thread_id AND json_extract(CAST(metadata AS TEXT), '$.run_id') = :run_id;

-- name: rollback_clear_heads
DELETE FROM writes
WHERE thread_id = :thread_id AND EXISTS (
    SELECT 1 FROM run_saved_heads h
    WHERE h.run_id = :run_id AND h.checkpoint_ns = writes.checkpoint_ns
      AND h.checkpoint_id = writes.checkpoint_id);

-- name: rollback_restore_writes
INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel,
                    type, value)
SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value
FROM run_saved_writes WHERE run_id = :run_id;

-- The inbox. {status} is one of the fixed conditions in sql.INTERRUPT_STATUS (spelled as the
-- partial indexes are, so the pending list is read from its index); {threads} joins the
-- threads when a filter looks at their metadata (the fragment interrupt_threads), else is empty;
-- {filters} is the fragment interrupt_filters.
-- name: search_interrupts
SELECT i.* FROM interrupts i {threads}
WHERE {status} {filters}
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- By deadline, those without one last: two parts, each read in the order of an index (pending
-- ones with a deadline by interrupts_pending_deadline, those without by interrupts_pending,
-- oldest first), each cut to the first limit + offset rows (window), then merged. One ORDER BY
-- over all of them would sort every pending interrupt for each page.
-- name: search_interrupts_by_deadline
SELECT * FROM (
    SELECT * FROM (SELECT i.*, i.rowid AS row_order FROM interrupts i {threads}
                   WHERE {status} AND i.deadline IS NOT NULL {filters}
                   ORDER BY {dated} LIMIT :window) AS dated
    UNION ALL
    SELECT * FROM (SELECT i.*, i.rowid AS row_order FROM interrupts i {threads}
                   WHERE {status} AND i.deadline IS NULL {filters}
                   ORDER BY {undated} LIMIT :window) AS undated
) AS i
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- Counting stops after count_limit matches (-1: counts them all).
-- name: count_interrupts
SELECT count(*) AS total FROM (SELECT 1 FROM interrupts i {threads}
WHERE {status} {filters}
LIMIT :count_limit) AS matched;

-- The filters every interrupt search applies (after its status condition).
-- name: interrupt_filters
  AND (:graph_id IS NULL OR i.graph_id = :graph_id)
  AND (:assistant_id IS NULL OR i.assistant_id = :assistant_id)
  AND (:thread_id IS NULL OR i.thread_id = :thread_id)
  AND (:interrupt_id IS NULL OR i.interrupt_id = :interrupt_id)
  AND (:assignee IS NULL OR EXISTS (SELECT 1 FROM json_each(i.assignees) a WHERE a.value = :assignee))
  AND (:deadline_before IS NULL OR i.deadline < :deadline_before)
  AND (:created_after IS NULL OR i.created_at > :created_after)

-- Threads whose metadata holds :metadata, and what the caller may see (:required, :contains).
-- name: interrupt_threads
JOIN threads t ON t.thread_id = i.thread_id
  AND {holds:t}
  AND {allowed:t}

-- name: interrupts_by_id
SELECT * FROM interrupts WHERE interrupt_id = :interrupt_id ORDER BY created_at, rowid;

-- A plan changes only from the version it was read at, and only while the interrupt is pending.
-- name: set_plan
UPDATE interrupts SET assignees = :assignees, deadline = :deadline, on_deadline = :on_deadline,
    remind_before = :remind_before, plan_version = plan_version + 1
WHERE thread_id = :thread_id AND interrupt_id = :interrupt_id AND plan_version = :version
  AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
RETURNING *;

-- name: expire_interrupt
UPDATE interrupts SET expired_at = :now
WHERE thread_id = :thread_id AND interrupt_id = :interrupt_id AND plan_version = :version
  AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL;

-- name: set_timer
INSERT INTO timers (timer_id, kind, due_at, thread_id, interrupt_id, plan_version)
VALUES (:timer_id, :kind, :due_at, :thread_id, :interrupt_id, :plan_version)
ON CONFLICT (timer_id) DO UPDATE SET due_at = excluded.due_at, plan_version = excluded.plan_version;

-- name: drop_timer
DELETE FROM timers WHERE timer_id = :timer_id;

-- Firing a timer is deleting it: whoever's delete applies fires it, once.
-- name: take_timer
DELETE FROM timers WHERE timer_id = :timer_id AND due_at = :due_at AND plan_version = :plan_version;

-- name: due_timers
SELECT * FROM timers WHERE due_at <= :now ORDER BY due_at LIMIT :limit;

-- name: next_timer_at
SELECT min(due_at) AS at FROM timers;

-- name: delete_thread_timers
DELETE FROM timers WHERE thread_id = :thread_id;

-- name: add_delivery
INSERT INTO outbox (delivery_id, event, url, body, secret_env, static_headers, thread_id,
                    interrupt_id, run_id, created_at, next_attempt_at)
VALUES (:delivery_id, :event, :url, :body, :secret_env, :static_headers, :thread_id,
        :interrupt_id, :run_id, :created_at, :next_attempt_at);

-- A sender takes due deliveries for one attempt each: until :hold_until nobody else does.
-- name: claim_deliveries
UPDATE outbox SET attempts = attempts + 1, next_attempt_at = :hold_until
WHERE seq IN (SELECT seq FROM outbox WHERE status = 'pending' AND next_attempt_at <= :now
              ORDER BY next_attempt_at LIMIT :limit)
RETURNING *;

-- name: settle_delivery
UPDATE outbox SET settled_attempts = attempts, status = :status, next_attempt_at = :next_attempt_at, last_error = :error,
    delivered_at = :delivered_at
WHERE delivery_id = :delivery_id AND attempts = :attempt AND settled_attempts < :attempt
    AND status = 'pending';

-- Attempts a dead process left in progress: over, and their deliveries due at once.
-- name: abandon_attempts
UPDATE outbox SET settled_attempts = attempts, next_attempt_at = :now, last_error = :error
WHERE status = 'pending' AND settled_attempts < attempts
RETURNING *;

-- name: next_delivery_at
SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending';

-- name: get_delivery
SELECT * FROM outbox WHERE delivery_id = :delivery_id;

-- name: append_audit
INSERT INTO audit (at, event, outcome, thread_id, interrupt_id, run_id, identity, request_id,
                   client, reason, detail)
VALUES (:at, :event, :outcome, :thread_id, :interrupt_id, :run_id, :identity, :request_id,
        :client, :reason, :detail);

-- {threads}: empty, or audit_threads when the caller may see only some threads' entries.
-- name: search_audit
SELECT a.* FROM audit a {threads}
WHERE (:thread_id IS NULL OR a.thread_id = :thread_id)
  AND (:interrupt_id IS NULL OR a.interrupt_id = :interrupt_id)
  AND (:identity IS NULL OR a.identity = :identity)
  AND (:event IS NULL OR a.event = :event)
  AND (:since IS NULL OR a.at >= :since)
  AND (:until IS NULL OR a.at < :until)
  AND (:after_seq IS NULL OR a.seq > :after_seq)
ORDER BY {order}
LIMIT :limit OFFSET :offset;

-- name: audit_threads
JOIN threads t ON t.thread_id = a.thread_id
  AND {allowed:t}

-- Fragments, put into the queries above by the loader (storage/sql.py) where they say
-- {holds:<alias>} or {allowed:<alias>}; ALIAS stands for the alias.
-- ALIAS.metadata holds every pair of the metadata filter.
-- name: _holds
NOT EXISTS (SELECT 1 FROM json_each(:metadata) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(ALIAS.metadata) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))

-- What the caller may see (the auth handler's filter): ALIAS.metadata holds every pair of the
-- required filter and, for each key of the contains filter, a list holding all its members.
-- name: _allowed
NOT EXISTS (SELECT 1 FROM json_each(:required) f
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(ALIAS.metadata) m
                                    WHERE m.key = f.key AND m.type = f.type AND m.value IS f.value))
  AND NOT EXISTS (SELECT 1 FROM json_each(:contains) f
                  WHERE NOT EXISTS (
                      SELECT 1 FROM json_each(ALIAS.metadata) m
                      WHERE m.key = f.key AND m.type = 'array'
                        AND NOT EXISTS (SELECT 1 FROM json_each(f.value) v
                                        WHERE NOT EXISTS (SELECT 1 FROM json_each(m.value) e
                                                          WHERE e.type = v.type AND e.value IS v.value))))
