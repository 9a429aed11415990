"""Waiting for what another thread or process does, without guessing how long it takes: poll a
condition until it holds, and fail with a message when the deadline passes first."""
import time
from typing import Callable


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.02,
               still_possible: Callable[[], bool] = lambda: True, details: Callable[[], str] = lambda: ""):
    """Return condition()'s first true value; AssertionError after `timeout` seconds, or as soon
    as `still_possible()` says it can no longer happen (e.g. the process that would do it ended)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline or not still_possible():
            raise AssertionError(f"gave up waiting for {what}\n{details()}")
        time.sleep(interval)  # the poll interval, not a guess at how long the other side takes
