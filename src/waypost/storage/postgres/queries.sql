-- One named block per query, with the same names as sqlite/queries.sql. Parameters are
-- psycopg's %(named)s, each cast to its type (a NULL parameter has none of its own).
-- {order} is filled from a whitelist, {lock} with FOR UPDATE or nothing.
--
-- A metadata or values filter matches a row when every member of the filter has a member of
-- the row under the same key that is equal as JSON (jsonb equality: true is not 1, "1" is not
-- 1, objects compare whole and regardless of key order, arrays in order). A missing key is
-- NULL, which IS DISTINCT FROM a JSON null. The key is only ever looked up (->), never built
-- into a path, so quotes, dots or `$` in a key mean nothing special.
--
-- Time is the database's: now() (the transaction's start, stable, so indexes apply) where
-- rows are compared with the present, clock_timestamp() where a deadline is set from it.

-- name: put_assistant
INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name, description,
                        version, created_at, updated_at)
VALUES (%(assistant_id)s, %(graph_id)s, %(config)s::json, %(context)s::json, %(metadata)s::jsonb,
        %(name)s, %(description)s, %(version)s, %(created_at)s::timestamptz, %(updated_at)s::timestamptz)
ON CONFLICT (assistant_id) DO UPDATE SET
    graph_id = excluded.graph_id, config = excluded.config, context = excluded.context,
    metadata = excluded.metadata, name = excluded.name, description = excluded.description,
    version = excluded.version, updated_at = excluded.updated_at;

-- name: put_assistant_version
INSERT INTO assistant_versions (assistant_id, version, graph_id, config, context, metadata, name,
                                description, created_at)
VALUES (%(assistant_id)s, %(version)s, %(graph_id)s, %(config)s::json, %(context)s::json,
        %(metadata)s::jsonb, %(name)s, %(description)s, %(updated_at)s::timestamptz)
ON CONFLICT (assistant_id, version) DO UPDATE SET
    graph_id = excluded.graph_id, config = excluded.config, context = excluded.context,
    metadata = excluded.metadata, name = excluded.name, description = excluded.description,
    created_at = excluded.created_at;

-- name: get_assistant
SELECT * FROM assistants WHERE assistant_id = %(assistant_id)s;

-- name: delete_assistant
DELETE FROM assistants WHERE assistant_id = %(assistant_id)s;

-- name: delete_assistant_versions
DELETE FROM assistant_versions WHERE assistant_id = %(assistant_id)s;

-- Names match case-insensitively beyond ASCII: lower(upper(x)) under ICU's root locale folds
-- like Python's str.casefold in the cases that matter (ß and SS, final sigma), whatever the
-- database's own LC_CTYPE (under "C", lower() folds ASCII only). Without ICU the store
-- swaps in the database's default collation (see store.py).
-- name: search_assistants
SELECT *, count(*) OVER () AS total FROM assistants a
WHERE (%(graph_id)s::text IS NULL OR graph_id = %(graph_id)s::text)
  AND (%(name)s::text IS NULL
       OR strpos(lower(upper(name COLLATE "und-x-icu")), lower(upper(%(name)s::text COLLATE "und-x-icu"))) > 0)
  AND {holds:a}
  AND {allowed:a}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: assistant_versions
SELECT *, created_at AS updated_at FROM assistant_versions v
WHERE assistant_id = %(assistant_id)s
  AND {holds:v}
ORDER BY version DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: assistant_version
SELECT *, created_at AS updated_at FROM assistant_versions
WHERE assistant_id = %(assistant_id)s AND version = %(version)s;

-- name: insert_thread
INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata, config,
                     status, state_values, interrupts, error)
VALUES (%(thread_id)s, %(created_at)s::timestamptz, %(updated_at)s::timestamptz,
        %(state_updated_at)s::timestamptz, %(metadata)s::jsonb, %(config)s::json, %(status)s,
        %(state_values)s::jsonb, %(interrupts)s::json, %(error)s::json)
ON CONFLICT (thread_id) DO NOTHING;

-- name: get_thread
SELECT * FROM threads WHERE thread_id = %(thread_id)s {lock};

-- What executing or queueing a run needs, in one look: its thread and its assistant (either
-- may be gone; the assistant's columns are prefixed a_), and whether a state update holds the
-- thread (rows.run_setting).
-- name: run_setting
SELECT t.thread_id, t.created_at, t.updated_at, t.state_updated_at, t.metadata, t.config, t.status,
       t.state_values, t.interrupts, t.error, t.at_breakpoint, coalesce(t.locked_until >= now(), false) AS state_held,
       a.assistant_id AS a_assistant_id, a.graph_id AS a_graph_id, a.config AS a_config,
       a.context AS a_context, a.metadata AS a_metadata, a.name AS a_name,
       a.description AS a_description, a.version AS a_version, a.created_at AS a_created_at,
       a.updated_at AS a_updated_at
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT * FROM threads WHERE thread_id = %(thread_id)s {lock}) AS t ON true
LEFT JOIN assistants a ON a.assistant_id = %(assistant_id)s;

-- A shallow merge in one statement: the patch's keys replace the thread's.
-- name: set_thread_metadata
UPDATE threads SET metadata = metadata || %(patch)s::jsonb, updated_at = %(now)s::timestamptz
WHERE thread_id = %(thread_id)s
RETURNING *;

-- name: set_thread_status
UPDATE threads SET status = %(status)s, updated_at = %(now)s::timestamptz WHERE thread_id = %(thread_id)s;

-- name: record_thread_state
UPDATE threads SET state_values = %(state_values)s::jsonb, interrupts = %(interrupts)s::json,
    status = %(status)s, error = %(error)s::json, at_breakpoint = %(at_breakpoint)s,
    metadata = metadata || coalesce(%(metadata_patch)s::jsonb, '{}'),
    updated_at = %(now)s::timestamptz, state_updated_at = %(now)s::timestamptz
WHERE thread_id = %(thread_id)s;

-- A state update holds the thread only when no run is in flight on it and no other update
-- holds it; the claim below skips held threads.
-- name: lock_thread_state
UPDATE threads SET locked_until = clock_timestamp() + make_interval(secs => %(seconds)s)
WHERE thread_id = %(thread_id)s AND (locked_until IS NULL OR locked_until < now())
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.thread_id = %(thread_id)s
                  AND runs.status IN ('pending', 'running'));

-- name: unlock_thread_state
UPDATE threads SET locked_until = NULL WHERE thread_id = %(thread_id)s;

-- name: delete_thread
DELETE FROM threads WHERE thread_id = %(thread_id)s;

-- name: delete_thread_runs
DELETE FROM runs WHERE thread_id = %(thread_id)s;

-- name: delete_thread_interrupts
DELETE FROM interrupts WHERE thread_id = %(thread_id)s;

-- name: delete_thread_saved_heads
DELETE FROM run_saved_heads WHERE thread_id = %(thread_id)s;

-- name: delete_thread_saved_writes
DELETE FROM run_saved_writes WHERE thread_id = %(thread_id)s;

-- name: search_threads
SELECT *, count(*) OVER () AS total FROM threads t
WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(ids)s::text[] IS NULL OR thread_id = ANY(%(ids)s::text[]))
  AND {holds:t}
  AND NOT EXISTS (SELECT 1 FROM jsonb_each(%(values)s::jsonb) f
                  WHERE t.state_values -> f.key IS DISTINCT FROM f.value)
  AND {allowed:t}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: insert_run
INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, available_at, status,
                  metadata, kwargs, multitask_strategy, attempt, output, temporary, answers)
VALUES (%(run_id)s, %(thread_id)s, %(assistant_id)s, %(created_at)s::timestamptz,
        %(updated_at)s::timestamptz, %(available_at)s::timestamptz, %(status)s, %(metadata)s::json,
        %(kwargs)s::json, %(multitask_strategy)s, %(attempt)s, %(output)s::json, %(temporary)s,
        %(answers)s::json);

-- A run claimed as it is queued (Tx.insert_started_run): as claim_runs leaves one.
-- name: insert_started_run
INSERT INTO runs (run_id, thread_id, assistant_id, created_at, updated_at, available_at, status,
                  metadata, kwargs, multitask_strategy, attempt, output, temporary, answers,
                  lease_owner, lease_until)
VALUES (%(run_id)s, %(thread_id)s, %(assistant_id)s, %(created_at)s::timestamptz,
        %(updated_at)s::timestamptz, %(available_at)s::timestamptz, 'running', %(metadata)s::json,
        %(kwargs)s::json, %(multitask_strategy)s, 1, %(output)s::json, %(temporary)s,
        %(answers)s::json, %(worker)s, clock_timestamp() + make_interval(secs => %(lease_s)s));

-- name: get_run
SELECT * FROM runs WHERE run_id = %(run_id)s;

-- name: delete_finished_run
DELETE FROM runs WHERE run_id = %(run_id)s AND status NOT IN ('pending', 'running');

-- name: list_runs
SELECT * FROM runs
WHERE thread_id = %(thread_id)s AND (%(status)s::text IS NULL OR status = %(status)s::text)
ORDER BY seq DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: inflight_runs
SELECT * FROM runs WHERE thread_id = %(thread_id)s AND status IN ('pending', 'running') ORDER BY seq;

-- name: runs_by_status
SELECT * FROM runs WHERE status = ANY(%(statuses)s::text[]) ORDER BY seq;

-- The queue. A run is runnable when it is due, its thread has no running run and no older
-- pending one (runs on a thread go one at a time, in order), and no state update holds the
-- thread. Candidates are locked as they are picked, skipping rows another claim holds, so
-- concurrent claims take different runs; a run skipped that way still counts as an older
-- pending run of its thread (this statement's snapshot sees it pending), so its thread's
-- later runs wait. The unique index runs_one_running backs the first rule.
-- name: claim_runs
WITH claimed AS (
UPDATE runs SET status = 'running', attempt = runs.attempt + 1, updated_at = clock_timestamp(),
    lease_owner = %(worker)s, lease_until = clock_timestamp() + make_interval(secs => %(lease_s)s)
FROM (
    SELECT r.seq FROM runs r
    WHERE r.status = 'pending' AND r.available_at <= now()
      AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id
                      AND (o.status = 'running' OR (o.status = 'pending' AND o.seq < r.seq)))
      AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.thread_id = r.thread_id
                      AND t.locked_until >= now())
    ORDER BY r.seq
    LIMIT %(limit)s
    FOR UPDATE OF r SKIP LOCKED
) AS picked
WHERE runs.seq = picked.seq
RETURNING runs.*),
-- A run claimed for the first time that continues from the thread's checkpoints (a command,
-- or no input: models.Run.continues_checkpoint) has them saved in the same statement, for an
-- exact rollback (see run_saved_heads in the migrations): the newest checkpoint of the root
-- namespace and of every subgraph enclosing an interrupt still in play (ns minus its last
-- step, joined by "|"), and its writes. "Newest" is langgraph's own order: checkpoint_id
-- descending. One statement, so the claim and what a rollback needs commit together.
continuing AS (
    SELECT run_id, thread_id FROM claimed
    WHERE attempt = 1 AND (coalesce(kwargs::jsonb -> 'command', 'null') NOT IN ('null', '{}')
                           OR coalesce(kwargs::jsonb -> 'input', 'null') = 'null')),
spaces AS (
    SELECT c.run_id, c.thread_id, '' AS checkpoint_ns FROM continuing c
    UNION
    SELECT c.run_id, c.thread_id, array_to_string((ARRAY(SELECT json_array_elements_text(i.ns)))[1:k.n], '|')
    FROM continuing c
    JOIN interrupts i ON i.thread_id = c.thread_id AND i.superseded_by IS NULL
        AND ((i.answered_by_run IS NULL AND i.expired_at IS NULL) OR i.answered_by_run = c.run_id)
    CROSS JOIN LATERAL json_array_elements(i.ns) WITH ORDINALITY AS k(step, n)
    WHERE k.n < json_array_length(i.ns)),
-- Each looked up on its primary key (LATERAL ... LIMIT, OFFSET 0): a join here would be
-- planned on guesses about these few rows and scan langgraph's tables whole.
heads AS (
    INSERT INTO run_saved_heads (run_id, thread_id, checkpoint_ns, checkpoint_id)
    SELECT s.run_id, s.thread_id, s.checkpoint_ns, newest.checkpoint_id
    FROM spaces s CROSS JOIN LATERAL (
        SELECT cp.checkpoint_id FROM checkpoints cp
        WHERE cp.thread_id = s.thread_id AND cp.checkpoint_ns = s.checkpoint_ns
        ORDER BY cp.checkpoint_id DESC LIMIT 1) AS newest
    RETURNING run_id, thread_id, checkpoint_ns, checkpoint_id),
saved_writes AS (
    INSERT INTO run_saved_writes (run_id, thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
                                  idx, channel, type, value)
    SELECT h.run_id, w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.idx,
           w.channel, w.type, w.blob
    FROM heads h CROSS JOIN LATERAL (
        SELECT * FROM checkpoint_writes cw
        WHERE cw.thread_id = h.thread_id AND cw.checkpoint_ns = h.checkpoint_ns
          AND cw.checkpoint_id = h.checkpoint_id OFFSET 0) AS w)
SELECT * FROM claimed ORDER BY seq;

-- What claim_runs saves for a continuing run, for one started as it is queued (an answer:
-- the interrupts it answers stay in play, none is superseded by it). Two plain INSERTs, so
-- they go with the queueing transaction's other writes in one statement: neither sees the
-- other's rows, so each finds the newest checkpoints itself.
-- name: save_heads
INSERT INTO run_saved_heads (run_id, thread_id, checkpoint_ns, checkpoint_id)
SELECT %(run_id)s, %(thread_id)s, s.checkpoint_ns, newest.checkpoint_id
FROM ({started_spaces:s}) AS s CROSS JOIN LATERAL ({newest_checkpoint:s}) AS newest;

-- name: save_writes
INSERT INTO run_saved_writes (run_id, thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
                              idx, channel, type, value)
SELECT %(run_id)s, w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.idx,
       w.channel, w.type, w.blob
FROM ({started_spaces:s}) AS s CROSS JOIN LATERAL ({newest_checkpoint:s}) AS newest
CROSS JOIN LATERAL (
    SELECT * FROM checkpoint_writes cw
    WHERE cw.thread_id = %(thread_id)s AND cw.checkpoint_ns = s.checkpoint_ns
      AND cw.checkpoint_id = newest.checkpoint_id OFFSET 0) AS w;

-- The namespaces a run continues from (as claim_runs' spaces): the root, and every subgraph
-- enclosing an interrupt of its thread still in play: pending, or answered by this run (an
-- older answered one sits in a namespace named by a task id that no later run writes again).
-- name: _started_spaces
SELECT '' AS checkpoint_ns
UNION
SELECT array_to_string((ARRAY(SELECT json_array_elements_text(i.ns)))[1:k.n], '|')
FROM interrupts i CROSS JOIN LATERAL generate_series(1, json_array_length(i.ns) - 1) AS k(n)
WHERE i.thread_id = %(thread_id)s AND i.superseded_by IS NULL
  AND ((i.answered_by_run IS NULL AND i.expired_at IS NULL) OR i.answered_by_run = %(run_id)s)

-- The newest checkpoint of namespace ALIAS.checkpoint_ns, on its primary key.
-- name: _newest_checkpoint
SELECT cp.checkpoint_id FROM checkpoints cp
WHERE cp.thread_id = %(thread_id)s AND cp.checkpoint_ns = ALIAS.checkpoint_ns
ORDER BY cp.checkpoint_id DESC LIMIT 1

-- name: discard_saved_heads
DELETE FROM run_saved_heads WHERE run_id = %(run_id)s;

-- name: discard_saved_writes
DELETE FROM run_saved_writes WHERE run_id = %(run_id)s;

-- Delayed runs for the scheduler: did one become runnable since its last look (it then wakes
-- the worker), and when does the next one. One look, one clock: the database's.
-- name: run_times
SELECT coalesce(bool_or(available_at <= now()), false) AS became_due,
       min(available_at) FILTER (WHERE available_at > now()) AS next_at,
       now() AS now
FROM runs WHERE status = 'pending' AND available_at > %(since)s::timestamptz;

-- name: renew_lease
UPDATE runs SET lease_until = clock_timestamp() + make_interval(secs => %(lease_s)s)
WHERE run_id = %(run_id)s AND attempt = %(attempt)s AND status = 'running' AND lease_owner = %(worker)s
RETURNING cancel_action;

-- A held run's end: one statement that applies only for the holding attempt and, when it
-- does, forgets what claim_runs saved for the run's rollback (a run that ended keeps its work),
-- and says whether other runs are in flight on its thread, with its interrupt rows in play
-- (_after_end).
-- A cancel asked before the end is recorded wins: the holder then ends the run as asked.
-- name: finish_run
WITH ended AS (
UPDATE runs SET status = %(status)s, output = %(output)s::json, updated_at = %(now)s::timestamptz,
    lease_owner = NULL, lease_until = NULL
WHERE run_id = %(run_id)s AND attempt = %(attempt)s AND status = 'running' AND cancel_action IS NULL
RETURNING run_id, thread_id),
saved_writes AS (DELETE FROM run_saved_writes WHERE run_id IN (SELECT run_id FROM ended)),
saved_heads AS (DELETE FROM run_saved_heads WHERE run_id IN (SELECT run_id FROM ended))
{after_end:e}

-- name: end_cancelled_run
WITH ended AS (
UPDATE runs SET status = 'interrupted', output = %(output)s::json, updated_at = %(now)s::timestamptz,
    lease_owner = NULL, lease_until = NULL
WHERE run_id = %(run_id)s AND attempt = %(attempt)s AND status = 'running'
RETURNING run_id, thread_id),
saved_writes AS (DELETE FROM run_saved_writes WHERE run_id IN (SELECT run_id FROM ended)),
saved_heads AS (DELETE FROM run_saved_heads WHERE run_id IN (SELECT run_id FROM ended))
{after_end:e}

-- name: drop_held_run
WITH ended AS (
DELETE FROM runs WHERE run_id = %(run_id)s AND attempt = %(attempt)s AND status = 'running'
RETURNING run_id, thread_id),
saved_writes AS (DELETE FROM run_saved_writes WHERE run_id IN (SELECT run_id FROM ended)),
saved_heads AS (DELETE FROM run_saved_heads WHERE run_id IN (SELECT run_id FROM ended))
{after_end:e}

-- A run with a cancel pending is not handed back: its holder ends it as asked.
-- name: release_run
UPDATE runs SET status = 'pending', lease_owner = NULL, lease_until = NULL
WHERE run_id = %(run_id)s AND attempt = %(attempt)s AND status = 'running' AND lease_owner = %(worker)s
  AND cancel_action IS NULL;

-- name: cancel_pending_run
UPDATE runs SET status = 'interrupted', updated_at = %(now)s::timestamptz
WHERE run_id = %(run_id)s AND status = 'pending';

-- name: drop_pending_run
DELETE FROM runs WHERE run_id = %(run_id)s AND status = 'pending';

-- name: request_cancel
UPDATE runs SET cancel_action = CASE WHEN cancel_action = 'rollback' THEN 'rollback' ELSE %(action)s END
WHERE run_id = %(run_id)s AND status = 'running';

-- name: expire_leases
UPDATE runs SET status = 'pending', lease_owner = NULL, lease_until = NULL
WHERE status = 'running' AND lease_until < now() AND lease_owner IS DISTINCT FROM %(worker)s
  AND cancel_action IS NULL;

-- name: take_over_cancelled
UPDATE runs SET lease_owner = %(worker)s, attempt = attempt + 1,
    lease_until = clock_timestamp() + make_interval(secs => %(lease_s)s)
WHERE status = 'running' AND lease_until < now() AND lease_owner IS DISTINCT FROM %(worker)s
  AND cancel_action IS NOT NULL
RETURNING *;

-- name: forget_leases
UPDATE runs SET lease_until = '-infinity' WHERE status = 'running';

-- name: thread_interrupts
SELECT * FROM interrupts
WHERE thread_id = %(thread_id)s AND (%(superseded)s::boolean OR superseded_by IS NULL)
ORDER BY created_at, seq;

-- name: interrupts_in_play
SELECT * FROM interrupts i
WHERE i.thread_id = %(thread_id)s AND {in_play:i}
ORDER BY i.created_at, i.seq;

-- An interrupt row in play (Tx.interrupts_in_play): pending, or one of %(in_play)s.
-- name: _in_play
((ALIAS.answered_by_run IS NULL AND ALIAS.superseded_by IS NULL AND ALIAS.expired_at IS NULL)
 OR ALIAS.interrupt_id = ANY(%(in_play)s::text[]))

-- name: answer_interrupts
UPDATE interrupts SET answered_by_run = %(run_id)s, answered_at = %(now)s::timestamptz,
    answered_by = %(answered_by)s
WHERE thread_id = %(thread_id)s AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
  AND interrupt_id = ANY(%(ids)s::text[]);

-- name: release_answers
UPDATE interrupts SET answered_by_run = NULL, answered_at = NULL, answered_by = NULL
WHERE thread_id = %(thread_id)s AND answered_by_run = %(run_id)s
  AND (%(ids)s::text[] IS NULL OR interrupt_id = ANY(%(ids)s::text[]));

-- name: supersede_interrupts
UPDATE interrupts SET superseded_by = %(run_id)s
WHERE thread_id = %(thread_id)s AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
  AND interrupt_id <> ALL(%(keep)s::text[]);

-- name: restore_superseded
UPDATE interrupts SET superseded_by = NULL
WHERE thread_id = %(thread_id)s AND superseded_by = %(run_id)s
  AND (%(ids)s::text[] IS NULL OR interrupt_id = ANY(%(ids)s::text[]));

-- An interrupt raised again keeps its claim, its supersede, its plan and where it first came
-- from.
-- name: upsert_interrupt
INSERT INTO interrupts (thread_id, interrupt_id, task_id, ns, value, response_schema, created_at,
                        run_id, assistant_id, graph_id, assignees, deadline, on_deadline, remind_before)
VALUES (%(thread_id)s, %(interrupt_id)s, %(task_id)s, %(ns)s::json, %(value)s::json,
        %(response_schema)s::json, %(created_at)s::timestamptz, %(run_id)s, %(assistant_id)s,
        %(graph_id)s, %(assignees)s::jsonb, %(deadline)s::timestamptz, %(on_deadline)s::json,
        %(remind_before)s)
ON CONFLICT (thread_id, interrupt_id) DO UPDATE SET
    task_id = excluded.task_id, ns = excluded.ns, value = excluded.value,
    response_schema = excluded.response_schema;


-- Rollback of a run in langgraph's own tables (checkpoints, checkpoint_writes; a checkpoint's
-- metadata is jsonb holding its run_id). langgraph's saver has no call to delete a run's
-- checkpoints or to restore writes. checkpoint_blobs stay: their versions never collide.
-- name: rollback_run_writes
DELETE FROM checkpoint_writes w
USING checkpoints c
WHERE c.thread_id = %(thread_id)s AND c.metadata ->> 'run_id' = %(run_id)s
  AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
  AND w.checkpoint_id = c.checkpoint_id;

-- name: rollback_run_checkpoints
DELETE FROM checkpoints WHERE thread_id = %(thread_id)s AND metadata ->> 'run_id' = %(run_id)s;

-- name: rollback_clear_heads
DELETE FROM checkpoint_writes w
USING run_saved_heads h
WHERE h.run_id = %(run_id)s AND h.thread_id = %(thread_id)s AND w.thread_id = h.thread_id
  AND w.checkpoint_ns = h.checkpoint_ns AND w.checkpoint_id = h.checkpoint_id;

-- name: rollback_restore_writes
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx,
                               channel, type, blob)
SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value
FROM run_saved_writes WHERE run_id = %(run_id)s AND thread_id = %(thread_id)s;

-- The inbox. {status} is one of the fixed conditions in sql.INTERRUPT_STATUS (spelled as the
-- partial indexes are, so the pending list is read from its index); {threads} joins the
-- threads when a filter looks at their metadata (the fragment interrupt_threads), else is empty;
-- {filters} is the fragment interrupt_filters.
-- name: search_interrupts
SELECT i.* FROM interrupts i {threads}
WHERE {status} {filters}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- By deadline, those without one last: two parts, each read in the order of an index (pending
-- ones with a deadline by interrupts_pending_deadline, those without by interrupts_pending,
-- oldest first), each cut to the first limit + offset rows (window), then merged. One ORDER BY
-- over all of them would sort every pending interrupt for each page.
-- name: search_interrupts_by_deadline
SELECT * FROM (
    SELECT * FROM (SELECT i.* FROM interrupts i {threads}
                   WHERE {status} AND i.deadline IS NOT NULL {filters}
                   ORDER BY {dated} LIMIT %(window)s) AS dated
    UNION ALL
    SELECT * FROM (SELECT i.* FROM interrupts i {threads}
                   WHERE {status} AND i.deadline IS NULL {filters}
                   ORDER BY {undated} LIMIT %(window)s) AS undated
) AS i
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- Counting stops after count_limit matches (NULL: counts them all).
-- name: count_interrupts
SELECT count(*) AS total FROM (SELECT 1 FROM interrupts i {threads}
WHERE {status} {filters}
LIMIT %(count_limit)s::bigint) AS matched;

-- The filters every interrupt search applies (after its status condition).
-- name: interrupt_filters
  AND (%(graph_id)s::text IS NULL OR i.graph_id = %(graph_id)s::text)
  AND (%(assistant_id)s::text IS NULL OR i.assistant_id = %(assistant_id)s::text)
  AND (%(thread_id)s::text IS NULL OR i.thread_id = %(thread_id)s::text)
  AND (%(interrupt_id)s::text IS NULL OR i.interrupt_id = %(interrupt_id)s::text)
  AND (%(assignee)s::text IS NULL OR i.assignees @> jsonb_build_array(%(assignee)s::text))
  AND (%(deadline_before)s::timestamptz IS NULL OR i.deadline < %(deadline_before)s::timestamptz)
  AND (%(created_after)s::timestamptz IS NULL OR i.created_at > %(created_after)s::timestamptz)

-- Threads whose metadata holds :metadata, and what the caller may see (:required, :contains).
-- name: interrupt_threads
JOIN threads t ON t.thread_id = i.thread_id
  AND {holds:t}
  AND {allowed:t}

-- name: interrupts_by_id
SELECT * FROM interrupts WHERE interrupt_id = %(interrupt_id)s ORDER BY created_at, seq {lock};

-- A plan changes only from the version it was read at, and only while the interrupt is pending.
-- name: set_plan
UPDATE interrupts SET assignees = %(assignees)s::jsonb, deadline = %(deadline)s::timestamptz,
    on_deadline = %(on_deadline)s::json, remind_before = %(remind_before)s,
    plan_version = plan_version + 1
WHERE thread_id = %(thread_id)s AND interrupt_id = %(interrupt_id)s AND plan_version = %(version)s
  AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL
RETURNING *;

-- name: expire_interrupt
UPDATE interrupts SET expired_at = %(now)s::timestamptz
WHERE thread_id = %(thread_id)s AND interrupt_id = %(interrupt_id)s AND plan_version = %(version)s
  AND answered_by_run IS NULL AND superseded_by IS NULL AND expired_at IS NULL;

-- name: set_timer
INSERT INTO timers (timer_id, kind, due_at, thread_id, interrupt_id, plan_version)
VALUES (%(timer_id)s, %(kind)s, %(due_at)s::timestamptz, %(thread_id)s, %(interrupt_id)s,
        %(plan_version)s)
ON CONFLICT (timer_id) DO UPDATE SET due_at = excluded.due_at, plan_version = excluded.plan_version;

-- name: drop_timer
DELETE FROM timers WHERE timer_id = %(timer_id)s;

-- Firing a timer is deleting it: whoever's delete applies fires it, once. A second process
-- deleting the same row waits for the first one's commit, then finds nothing.
-- name: take_timer
DELETE FROM timers
WHERE timer_id = %(timer_id)s AND due_at = %(due_at)s::timestamptz AND plan_version = %(plan_version)s;

-- name: due_timers
SELECT * FROM timers WHERE due_at <= clock_timestamp() ORDER BY due_at LIMIT %(limit)s;

-- name: next_timer_at
SELECT min(due_at) AS at FROM timers;

-- name: delete_thread_timers
DELETE FROM timers WHERE thread_id = %(thread_id)s;

-- name: add_delivery
INSERT INTO outbox (delivery_id, event, url, body, secret_env, static_headers, thread_id,
                    interrupt_id, run_id, created_at, next_attempt_at)
VALUES (%(delivery_id)s, %(event)s, %(url)s, %(body)s::json, %(secret_env)s, %(static_headers)s,
        %(thread_id)s, %(interrupt_id)s, %(run_id)s, %(created_at)s::timestamptz,
        %(next_attempt_at)s::timestamptz);

-- A sender takes due deliveries for one attempt each: until hold_s passes nobody else does.
-- SKIP LOCKED: two senders never wait on each other's rows.
-- name: claim_deliveries
UPDATE outbox SET attempts = attempts + 1,
    next_attempt_at = clock_timestamp() + make_interval(secs => %(hold_s)s)
WHERE seq IN (SELECT seq FROM outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
              ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: settle_delivery
UPDATE outbox SET settled_attempts = attempts, status = %(status)s, next_attempt_at = %(next_attempt_at)s::timestamptz,
    last_error = %(error)s, delivered_at = %(delivered_at)s::timestamptz
WHERE delivery_id = %(delivery_id)s AND attempts = %(attempt)s AND settled_attempts < %(attempt)s
    AND status = 'pending';

-- Attempts a dead process left in progress: over, and their deliveries due at once.
-- name: abandon_attempts
UPDATE outbox SET settled_attempts = attempts, next_attempt_at = clock_timestamp(), last_error = %(error)s
WHERE status = 'pending' AND settled_attempts < attempts
RETURNING *;

-- name: next_delivery_at
SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending';

-- name: get_delivery
SELECT * FROM outbox WHERE delivery_id = %(delivery_id)s;

-- name: append_audit
INSERT INTO audit (at, event, outcome, thread_id, interrupt_id, run_id, identity, request_id,
                   client, reason, detail)
VALUES (%(at)s::timestamptz, %(event)s, %(outcome)s, %(thread_id)s, %(interrupt_id)s, %(run_id)s,
        %(identity)s, %(request_id)s, %(client)s, %(reason)s, %(detail)s::json);

-- {threads}: empty, or audit_threads when the caller may see only some threads' entries.
-- name: search_audit
SELECT a.* FROM audit a {threads}
WHERE (%(thread_id)s::text IS NULL OR a.thread_id = %(thread_id)s::text)
  AND (%(interrupt_id)s::text IS NULL OR a.interrupt_id = %(interrupt_id)s::text)
  AND (%(identity)s::text IS NULL OR a.identity = %(identity)s::text)
  AND (%(event)s::text IS NULL OR a.event = %(event)s::text)
  AND (%(since)s::timestamptz IS NULL OR a.at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.at < %(until)s::timestamptz)
  AND (%(after_seq)s::bigint IS NULL OR a.seq > %(after_seq)s::bigint)
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: audit_threads
JOIN threads t ON t.thread_id = a.thread_id
  AND {allowed:t}

-- Fragments, put into the queries above by the loader (storage/sql.py) where they say
-- {holds:<alias>} or {allowed:<alias>}; ALIAS stands for the alias.
-- ALIAS.metadata holds every pair of the metadata filter.
-- name: _holds
NOT EXISTS (SELECT 1 FROM jsonb_each(%(metadata)s::jsonb) f
                  WHERE ALIAS.metadata -> f.key IS DISTINCT FROM f.value)

-- What the caller may see (the auth handler's filter): ALIAS.metadata holds every pair of the
-- required filter and, for each key of the contains filter, a list holding all its members.
-- name: _allowed
NOT EXISTS (SELECT 1 FROM jsonb_each(%(required)s::jsonb) f
                  WHERE ALIAS.metadata -> f.key IS DISTINCT FROM f.value)
  AND NOT EXISTS (SELECT 1 FROM jsonb_each(%(contains)s::jsonb) f
                  WHERE jsonb_typeof(ALIAS.metadata -> f.key) IS DISTINCT FROM 'array'
                     OR NOT (ALIAS.metadata -> f.key) @> f.value)

-- The last part of a held run's end (finish_run, end_cancelled_run, drop_held_run): whether
-- runs are queued or running on its thread besides the one that ended, and the thread's
-- interrupt rows in play (_in_play: the ids are those the run's checkpoint still holds; one
-- result row each, or one with a null interrupt_id when there are none).
-- The caller holds the thread's row, so no run is queued on it meanwhile, and this statement
-- (its snapshot taken once that lock was held) sees every change made before.
-- name: _after_end
SELECT ALIAS.run_id AS ended_run_id,
       EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = ALIAS.thread_id AND o.run_id <> ALIAS.run_id
                                      AND o.status IN ('pending', 'running')) AS others_inflight,
       i.*
FROM ended ALIAS LEFT JOIN interrupts i ON i.thread_id = ALIAS.thread_id AND {in_play:i}
ORDER BY i.created_at, i.seq;
