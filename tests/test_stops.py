"""A stop (SIGTERM, Ctrl-C) is raised where the process is, except inside `held()`, where it waits
until the block is over (auditor/stops.py). The signals are real: sent to this process."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from auditor import stops


def _send(signum: int) -> None:
    os.kill(os.getpid(), signum)  # the handler runs before the next line of Python does


def test_outside_a_held_block_a_stop_is_raised_at_once(installed: None):
    reached = False
    with pytest.raises(stops.Terminated):
        _send(signal.SIGTERM)
        reached = True
    assert not reached


def test_inside_a_held_block_a_stop_waits_until_the_outermost_block_ends(installed: None):
    steps = []
    with pytest.raises(stops.Terminated):
        with stops.held():
            with stops.held():
                _send(signal.SIGTERM)
                steps.append("inner")
            steps.append("outer")
        steps.append("after")
    assert steps == ["inner", "outer"]


def test_ctrl_c_is_held_too_and_stays_a_plain_interrupt(installed: None):
    steps = []
    with pytest.raises(KeyboardInterrupt) as stopped, stops.held():
        _send(signal.SIGINT)
        steps.append("inside")
    assert steps == ["inside"] and not isinstance(stopped.value, stops.Terminated)


def test_once_a_stop_has_been_raised_ctrl_c_is_not_held_in_the_cleanup(installed: None):
    steps = []
    with pytest.raises(KeyboardInterrupt):
        try:
            _send(signal.SIGINT)
        finally:
            with stops.held():  # the cleanup's own held block (closing a session, say)
                steps.append("cleanup")
                _send(signal.SIGINT)
                steps.append("not reached")
    assert steps == ["cleanup"]


@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_ctrl_c_after_a_held_stop_is_raised_at_once_as_that_stop(installed: None, first: int):
    steps = []
    with pytest.raises(KeyboardInterrupt) as stopped, stops.held():
        _send(first)
        steps.append("held")
        _send(signal.SIGINT)
        steps.append("not reached")
    assert steps == ["held"]
    assert isinstance(stopped.value, stops.Terminated) == (first == signal.SIGTERM)


def test_a_held_stop_is_raised_even_when_the_block_ends_with_an_error(installed: None):
    with pytest.raises(stops.Terminated) as stopped, stops.held():
        _send(signal.SIGTERM)
        raise ValueError("the block's own failure")
    assert isinstance(stopped.value.__context__, ValueError)


def test_a_second_sigterm_cannot_cut_the_first_ones_cleanup_short(installed: None):
    cleaned = False
    with pytest.raises(stops.Terminated):
        try:
            _send(signal.SIGTERM)
        finally:
            _send(signal.SIGTERM)  # ignored now
            cleaned = True
    assert cleaned


def test_a_block_held_in_another_thread_does_not_hold_the_main_threads_stop(installed: None):
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with stops.held():
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        entered.wait(10)
        with pytest.raises(stops.Terminated):
            _send(signal.SIGTERM)
    finally:
        release.set()
        worker.join(10)
