"""Races between real processes (PostgreSQL's row locks are per connection, so threads sharing a
driver are not enough for some tests): fork one process per argument tuple, release them together."""
import multiprocessing


def run_forked(target, arguments: list[tuple]) -> list:
    """Run `target(*args, barrier, results)` in one forked process per tuple, all released
    together by the barrier; returns what each put on the results queue."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(arguments)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, barrier, results)) for args in arguments]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    return outcomes
