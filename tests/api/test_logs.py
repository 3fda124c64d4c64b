"""Task logs over the API: whole, tail, byte ranges, search, download and follow (SSE through a
live uvicorn, resumed with Last-Event-ID), every mode masked as `cube logs` masks; unknown
tasks and attempts are 404s that name them; viewers read, non-members get 404."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Api
from tests.api.live import DrivenRun, Event, LiveServer, SseReader, serve_api

SECRET = "hunter2-very-secret"
LOGGED = """
name: logged
tasks:
  - {name: train, command: "true", retries: 1, retry_delay: 1s}
  - {name: report, command: "true", depends: [train]}
"""


@pytest.fixture
def live(api: Api) -> Iterator[LiveServer]:
    with serve_api(api) as server:
        yield server


@pytest.fixture
def run(api: Api) -> DrivenRun:
    """A run whose task `train` is running (attempt 1), with a secret to mask."""
    driven = DrivenRun(api, "default", LOGGED)
    driven.secrets(SECRET)
    driven.start()
    return driven


@pytest.fixture
def viewer(api: Api) -> str:
    return api.user("vic", project="default", role="viewer")


def logs_path(run: DrivenRun, task: str = "train") -> str:
    return f"/projects/default/runs/{run.run_id}/tasks/{task}/logs"


def test_a_log_is_masked_and_its_open_last_line_waits_until_complete(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    path = run.write_log("train", f"one\ntoken={SECRET}\r\nthree".encode())
    running = api.call("GET", logs_path(run), viewer)
    assert running.status_code == 200
    assert running.headers["content-type"].startswith("text/plain")
    assert running.text == "one\ntoken=******\n"
    assert SECRET not in running.text
    start_of_open_line = len(f"one\ntoken={SECRET}\r\n")
    assert running.headers["x-log-end"] == str(start_of_open_line)
    assert running.headers["x-log-size"] == str(path.stat().st_size)
    assert running.headers["x-log-complete"] == "false"
    run.finish("train")
    done = api.call("GET", logs_path(run), viewer)
    assert done.text == "one\ntoken=******\nthree\n"
    assert done.headers["x-log-end"] == str(path.stat().st_size)
    assert done.headers["x-log-complete"] == "true"


def test_tail_gives_the_last_complete_lines(api: Api, run: DrivenRun, viewer: str) -> None:
    lines = "".join(f"step {i} loss={i % 10}\n" for i in range(1000))
    run.write_log("train", f"{lines}step 1000 loss=2 (still being writ".encode())
    tail = api.call("GET", f"{logs_path(run)}?tail=3", viewer)
    assert tail.text == "step 997 loss=7\nstep 998 loss=8\nstep 999 loss=9\n"
    # The open line matches the search but is left out: still two complete lines.
    searched = api.call("GET", f"{logs_path(run)}?tail=2&search=loss=[12]", viewer)
    assert searched.text == "step 991 loss=1\nstep 992 loss=2\n"
    other = api.call("GET", f"{logs_path(run)}?tail=2&search=loss=[34]", viewer)
    assert other.text == "step 993 loss=3\nstep 994 loss=4\n"
    assert api.call("GET", f"{logs_path(run)}?tail=0", viewer).text == ""


def test_byte_ranges_page_through_the_whole_masked_log(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    body = "".join(f"line {i} {SECRET if i % 3 == 0 else 'plain'}\n" for i in range(40))
    run.write_log("train", body.encode())
    run.finish("train")
    whole = api.call("GET", logs_path(run), viewer).text
    assert whole == body.replace(SECRET, "******")
    pages, offset = [], 0
    while True:
        page = api.call("GET", f"{logs_path(run)}?offset={offset}&length=50", viewer)
        assert page.headers["x-log-start"] == str(offset)  # each page starts a line
        pages.append(page.text)
        if int(page.headers["x-log-end"]) == offset:
            break
        offset = int(page.headers["x-log-end"])
    assert "".join(pages) == whole  # every line exactly once, masked in every page
    assert len(pages) > 10
    # The lines that start in bytes [3, 33): line 1 (at 27) only.
    middle = api.call("GET", f"{logs_path(run)}?offset=3&length=30", viewer)
    assert middle.text == "line 1 plain\n"
    assert (middle.headers["x-log-start"], middle.headers["x-log-end"]) == ("27", "40")
    assert api.call("GET", f"{logs_path(run)}?offset=3&length=1", viewer).text == ""


def test_search_masks_before_matching_and_says_why_a_pattern_is_bad(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    run.write_log("train", f"a.b {SECRET}\naxb\nloss=0.5\n".encode())
    found = api.call("GET", f"{logs_path(run)}?search=a.b", viewer)
    assert found.text == "a.b ******\naxb\n"
    literal = api.call("GET", f"{logs_path(run)}?search=a.b&literal=true", viewer)
    assert literal.text == "a.b ******\n"
    # A secret cannot be probed through search: lines are masked before they are matched.
    assert api.call("GET", f"{logs_path(run)}?search=hunter2", viewer).text == ""
    bad = api.call("GET", f"{logs_path(run)}?search=(unclosed", viewer)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "search"
    assert "not a valid regular expression" in bad.json()["error"]["message"]


def test_a_search_that_backtracks_without_end_is_stopped_with_the_reason(
    api: Api, run: DrivenRun, viewer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cubestudio.api.routes import logs

    monkeypatch.setattr(logs, "SEARCH_BUDGET", 0.2)
    run.write_log("train", ("a" * 40 + "b\nloss\n").encode())
    stopped = api.call("GET", f"{logs_path(run)}?search=(a%7Ca)%2B$", viewer)
    assert stopped.status_code == 200  # streamed: the reason is its last line
    assert stopped.text.startswith("[cube] search stopped: the search for '(a|a)+$' took more")
    counted = api.call("GET", f"{logs_path(run)}?search=(a%7Ca)%2B$&tail=5", viewer)
    assert counted.status_code == 422
    assert counted.json()["error"]["field"] == "search"


def test_download_is_an_attachment_of_the_masked_log(api: Api, run: DrivenRun, viewer: str) -> None:
    run.write_log("train", f"x {SECRET}\n".encode())
    got = api.call("GET", f"{logs_path(run)}?download=true", viewer)
    assert got.status_code == 200 and got.text == "x ******\n"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"{run.run_id}-train-1.log" in disposition


def test_attempts_and_tasks_that_do_not_exist_are_named(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    run.write_log("train", b"first try\n")
    run.finish("train", code=1)  # retries: 1
    run.tick(5)
    run.write_log("train", b"second try\n", attempt=2)
    assert api.call("GET", logs_path(run), viewer).text == "second try\n"
    first = api.call("GET", f"{logs_path(run)}?attempt=1", viewer)
    assert (first.text, first.headers["x-log-attempt"]) == ("first try\n", "1")
    third = api.call("GET", f"{logs_path(run)}?attempt=3", viewer)
    assert third.status_code == 404
    assert third.json()["error"]["message"] == (
        "task 'train' has 2 attempt(s); there is no attempt 3"
    )
    typo = api.call("GET", logs_path(run, "trian"), viewer)
    assert typo.status_code == 404
    assert "no task 'trian' (did you mean 'train'?)" in typo.json()["error"]["message"]
    waiting = api.call("GET", logs_path(run, "report"), viewer)
    assert waiting.status_code == 404
    assert "task 'report' has not started yet" in waiting.json()["error"]["message"]


def test_other_projects_and_bad_combinations_are_refused(
    api: Api, run: DrivenRun, viewer: str
) -> None:
    outsider = api.user("olga", project="team-b", role="admin")
    assert api.call("GET", logs_path(run), outsider).status_code == 404
    moved = f"/projects/team-b/runs/{run.run_id}/tasks/train/logs"
    assert api.call("GET", moved, outsider).status_code == 404  # the run is not team-b's
    both = api.call("GET", f"{logs_path(run)}?tail=5&length=10", viewer)
    assert both.status_code == 422 and both.json()["error"]["field"] == "tail"
    stream = api.call("GET", f"{logs_path(run)}?follow=true&download=true", viewer)
    assert stream.status_code == 422 and stream.json()["error"]["field"] == "follow"
    negative = api.call("GET", f"{logs_path(run)}?offset=-1", viewer)
    assert negative.status_code == 422 and negative.json()["error"]["field"] == "offset"


def _text(events: list[Event]) -> str:
    return "".join(e.data + "\n" for e in events if e.event == "log")


def test_follow_streams_new_lines_until_the_attempt_ends_and_resumes_by_id(
    api: Api, live: LiveServer, run: DrivenRun, viewer: str
) -> None:
    run.write_log("train", b"before\n")
    url = logs_path(run) + "?follow=true"
    with live.client(viewer) as client:
        with client.stream("GET", url) as first:
            assert first.headers["content-type"].startswith("text/event-stream")
            sse = SseReader(first)
            assert sse.next().data == "before"
            run.write_log("train", f"during {SECRET}\nhalf".encode())
            assert sse.next().data == "during ******"  # "half" waits for its newline
            resume_at = sse.last_id
        assert resume_at == str(len(f"before\nduring {SECRET}\n"))
        # Away: the line completes, more comes, the attempt ends.
        run.write_log("train", b" and rest\nlast words")
        run.finish("train")
        with client.stream("GET", url, headers={"Last-Event-ID": resume_at}) as second:
            rest = SseReader(second).until(lambda e: e.event == "end")
    assert _text(rest) == "half and rest\nlast words\n"
    end = rest[-1].json()
    assert (end["attempt"], end["status"], end["exit_code"]) == (1, "succeeded", 0)


def test_follow_waits_for_a_task_that_has_not_started(
    api: Api, live: LiveServer, run: DrivenRun, viewer: str
) -> None:
    url = logs_path(run, "report") + "?follow=true&tail=10"
    with live.client(viewer) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        sse = SseReader(response)
        run.finish("train")  # report starts: attempt 1
        run.write_log("report", f"report {SECRET}\n".encode(), attempt=1)
        assert sse.next().data == "report ******"
        run.finish("report")
        end = sse.until(lambda e: e.event == "end")[-1].json()
    assert (end["attempt"], end["status"]) == (1, "succeeded")
