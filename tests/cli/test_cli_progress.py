"""The progress line: on a terminal only, at most ~10 draws a second, erased at the end."""

from __future__ import annotations

import io

from itvrules.cli._progress import ProgressLine, progress_for


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_progress_when_the_stream_is_not_a_terminal() -> None:
    assert progress_for(io.StringIO()) is None


def test_no_progress_when_disabled() -> None:
    assert progress_for(FakeTerminal(), enabled=False) is None


def test_progress_on_a_terminal() -> None:
    assert isinstance(progress_for(FakeTerminal()), ProgressLine)


def test_draws_at_most_ten_times_a_second_after_a_delay() -> None:
    stream, clock = FakeTerminal(), FakeClock()
    line = ProgressLine(stream, clock=clock, interval=0.1, delay=0.5)
    rows = 0
    for _ in range(300):  # 3 s of calls every 10 ms
        rows += 1000
        line(rows)
        clock.now += 0.01
    # nothing in the first half second, then one draw per 0.1 s for the remaining 2.5 s
    draws = stream.getvalue().count("\r")
    assert 24 <= draws <= 26
    last = stream.getvalue().rsplit("\r", 1)[1]
    assert "rows" in last and "/s" in last
    line.close()
    erased = stream.getvalue().rsplit("\r", 2)[1]
    assert erased.strip() == "" and len(erased) >= len(last)  # blanked over, the cursor back home


def test_a_short_run_draws_nothing_and_close_writes_nothing() -> None:
    stream, clock = FakeTerminal(), FakeClock()
    line = ProgressLine(stream, clock=clock)
    for rows in range(1, 1000):
        line(rows)
        clock.now += 0.0001
    line.close()
    assert stream.getvalue() == ""


def test_rate_and_count_are_shown() -> None:
    stream, clock = FakeTerminal(), FakeClock()
    line = ProgressLine(stream, clock=clock, delay=0.0)
    clock.now += 2.0
    line(500_000)
    assert "500,000 rows  250k/s  00:02" in stream.getvalue()
