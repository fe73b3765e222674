"""Thread streams: every event of every run on the thread, from every process, with the same
ids the run's own subscribers see, and the thread's own events; live only; never ending."""

from __future__ import annotations

from tests.broker.conftest import Brokers, drain, new_id, take


async def test_thread_followers_get_run_events_and_thread_events(brokers: Brokers) -> None:
    thread_id, first_run, second_run = new_id(), new_id(), new_id()
    followers = [await brokers.a.subscribe_thread(thread_id), await brokers.b.subscribe_thread(thread_id)]
    run_sub = await brokers.a.subscribe(first_run, after=None)

    await brokers.b.publish(first_run, thread_id, "values", b"1")
    await brokers.a.publish(second_run, thread_id, "values", b"2")
    await brokers.b.publish_thread(thread_id, "metadata", b'{"status": "run_done"}')
    await brokers.a.publish(new_id(), new_id(), "values", b"elsewhere")
    await brokers.b.publish(first_run, thread_id, "updates", b"3")
    await brokers.b.end_run(first_run, thread_id, resumable=False)

    run_events = await drain(run_sub)
    for follower in followers:
        got = await take(follower, 4)
        assert [(e.event, e.data) for e in got] == [
            ("values", b"1"),
            ("values", b"2"),
            ("metadata", b'{"status": "run_done"}'),
            ("updates", b"3"),
        ]
        assert [got[0].id, got[3].id] == [e.id for e in run_events], "a run event keeps its id"
        assert await follower.next(0) is None, "nothing from other threads"
        await follower.close()
    await run_sub.close()


async def test_thread_streams_are_live_only(brokers: Brokers) -> None:
    thread_id, run_id = new_id(), new_id()
    await brokers.b.publish(run_id, thread_id, "values", b"before")
    await brokers.b.publish_thread(thread_id, "metadata", b"before")
    follower = await brokers.a.subscribe_thread(thread_id)
    await brokers.b.publish(run_id, thread_id, "values", b"after")
    assert [e.data for e in await take(follower, 1)] == [b"after"]
    await follower.close()


async def test_a_thread_stream_outlives_its_runs(brokers: Brokers) -> None:
    thread_id, run_id = new_id(), new_id()
    follower = await brokers.a.subscribe_thread(thread_id)
    await brokers.b.publish(run_id, thread_id, "values", b"1")
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    await brokers.b.publish_thread(thread_id, "metadata", b"after the run")
    await brokers.b.publish(new_id(), thread_id, "values", b"next run")
    assert [e.data for e in await take(follower, 3)] == [b"1", b"after the run", b"next run"]
    await follower.close()


async def test_a_run_end_can_tell_the_thread_followers_in_the_same_call(brokers: Brokers) -> None:
    thread_id, run_id = new_id(), new_id()
    follower = await brokers.a.subscribe_thread(thread_id)
    run_sub = await brokers.a.subscribe(run_id, after=None)
    await brokers.b.publish(run_id, thread_id, "values", b"1")
    await brokers.b.end_run(run_id, thread_id, resumable=False, thread_event=("metadata", b'{"status": "run_done"}'))
    assert [e.data for e in await drain(run_sub)] == [b"1"], "the run's stream ends"
    got = await take(follower, 2)
    assert [(e.event, e.data) for e in got] == [("values", b"1"), ("metadata", b'{"status": "run_done"}')]
    assert got[0].id != got[1].id
    # Ending again (a late second end) tells the thread nothing more.
    await brokers.b.end_run(run_id, new_id(), resumable=False)
    assert await follower.next(0) is None
    await follower.close()
    await run_sub.close()
