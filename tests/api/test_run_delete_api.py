"""DELETE /projects/{project}/runs/{run_id} (`cube runs delete` on a server): an ended run
goes with its rows and files, one that has not ended is refused (409, nothing deleted),
and a run of another project is not found."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.live import DrivenRun


def _ended(api: Api, project: str = "team") -> DrivenRun:
    run = DrivenRun(api, project)
    run.start()
    run.write_log("a", b"a ran\n")
    run.finish("a")
    run.finish("b")
    return run


def test_an_ended_run_goes_with_its_files(api: Api) -> None:
    dev = api.user("dev", project="team")
    run = _ended(api)
    kept = _ended(api)
    artifacts = api.settings.home_dir / "artifacts" / run.run_id
    artifacts.mkdir(parents=True)
    (artifacts / "model").write_text("weights")
    assert api.call("GET", f"/projects/team/runs/{run.run_id}", dev).json()["status"] == (
        "succeeded"
    )
    gone = api.call("DELETE", f"/projects/team/runs/{run.run_id[:-2]}", dev)  # a unique prefix
    assert gone.status_code == 204, gone.text
    assert api.call("GET", f"/projects/team/runs/{run.run_id}", dev).status_code == 404
    assert not (api.settings.runs_dir / run.run_id).exists()
    assert not artifacts.exists()
    listed = api.call("GET", "/projects/team/runs", dev).json()["items"]
    assert [r["id"] for r in listed] == [kept.run_id]
    assert kept.folder("a").is_dir()  # the other run is whole
    again = api.call("DELETE", f"/projects/team/runs/{run.run_id}", dev)
    assert again.status_code == 404


def test_a_run_that_has_not_ended_is_refused(api: Api) -> None:
    dev = api.user("dev", project="team")
    run = DrivenRun(api, "team")
    run.start()
    status = api.call("GET", f"/projects/team/runs/{run.run_id}", dev).json()["status"]
    refused = api.call("DELETE", f"/projects/team/runs/{run.run_id}", dev)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        f"run {run.run_id} is {status}: stop it first (`cube stop {run.run_id}`), "
        "then delete it; nothing was deleted"
    )
    assert api.call("GET", f"/projects/team/runs/{run.run_id}", dev).status_code == 200


def test_other_projects_and_viewers_cannot_delete(api: Api, admin: str) -> None:
    api.user("dev", project="team")
    viewer = api.user("vic", project="team", role="viewer")
    eve = api.user("eve", project="other")
    run = _ended(api)
    path = f"/projects/team/runs/{run.run_id}"
    assert api.call("DELETE", path, eve).status_code == 404  # not a member: no such project
    elsewhere = api.call("DELETE", f"/projects/other/runs/{run.run_id}", eve)
    assert elsewhere.status_code == 404  # a run of another project: no such run
    assert elsewhere.json()["error"]["code"] == "not_found"
    denied = api.call("DELETE", path, viewer)
    assert denied.status_code == 403 and "developer role" in denied.json()["error"]["message"]
    assert api.call("GET", path, viewer).status_code == 200  # still there
    assert api.call("DELETE", path, admin).status_code == 204  # a platform admin may
