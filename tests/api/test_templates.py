"""The template registry over the API: platform-wide templates for everyone, project templates
for their members only (404 for others), roles, immutable versions, names unique across the
platform, the CLI's validation messages, the delete rules, and the parameters as JSON Schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cubestudio.engine.lifecycle import insert_new_run
from cubestudio.errors import SpecError
from cubestudio.schedule.registry import apply_schedule
from cubestudio.spec.loader import load_template_text, pipeline_from_data
from cubestudio.spec.template import TemplateSpec
from cubestudio.store import accounts
from cubestudio.store.templates import StoreCatalog, list_templates
from cubestudio.templates import BUILTIN_DIR, builtin_templates
from tests.api.conftest import Api

EXAMPLES = Path(__file__).parents[2] / "examples" / "templates"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _echo(name: str = "echo", command: str = "echo {{ args.n }}", **extra: Any) -> dict[str, Any]:
    parameters = [{"name": "n", "type": "int", "default": 1, "description": "how many"}]
    return {"name": name, "command": command, "parameters": parameters, **extra}


def _names(api: Api, token: str, query: str = "") -> list[str]:
    response = api.call("GET", f"/templates{query}", token)
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()]


def _project_id(api: Api, name: str) -> int:
    with api.db.begin() as conn:
        row = accounts.get_project(conn, name=name)
    assert row is not None
    return int(row["id"])


def test_platform_templates_are_for_everyone_project_ones_for_members(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    viewer = api.user("vic", project="team-a", role="viewer")
    other = api.user("bert", project="team-b", role="admin")
    loner = api.user("lone")  # in no project at all
    shared = api.call("POST", "/templates", admin, json=_echo("shared", category="data"))
    assert shared.status_code == 201, shared.text
    assert (shared.json()["project"], shared.json()["created"]) == (None, True)
    text = yaml.safe_dump(_echo("team-echo", description="ours"))
    mine = api.call("POST", "/projects/team-a/templates", dev, json={"yaml": text})
    assert mine.status_code == 201, mine.text
    assert (mine.json()["project"], mine.json()["version"]) == ("team-a", 1)

    platform = sorted(["shared", *(t.name for t in builtin_templates())])
    for token in (dev, other, loner):
        assert _names(api, token) == platform
    assert _names(api, dev, "?project=team-a") == sorted([*platform, "team-echo"])
    assert "team-echo" in _names(api, viewer, "?project=team-a")
    listed = {t["name"]: t for t in api.call("GET", "/templates?project=team-a", dev).json()}
    assert listed["team-echo"]["project"] == "team-a" and listed["shared"]["project"] is None
    assert listed["shell"]["builtin"] is True and listed["shared"]["builtin"] is False
    assert listed["shared"]["category"] == "data" and listed["shell"]["category"] == "basic"
    assert listed["shell"]["image"] == "ubuntu:24.04"
    assert api.call("GET", "/templates/team-echo", viewer).json()["template"]["description"] == (
        "ours"
    )

    assert api.call("GET", "/templates?project=team-a", other).status_code == 404
    unknown = api.call("GET", "/templates/no-such-name", other)
    for path in ("", "/versions", "/schema", "/export"):
        hidden = api.call("GET", f"/templates/team-echo{path}", other)
        assert hidden.status_code == 404, path
    hidden = api.call("GET", "/templates/team-echo", other).json()["error"]
    assert hidden["message"].startswith("unknown template 'team-echo'")  # as for no template
    assert unknown.json()["error"]["message"].startswith("unknown template 'no-such-name'")
    assert api.call("DELETE", "/templates/team-echo?version=1", other).status_code == 404
    assert api.call("GET", "/templates/team-echo", admin).json()["project"] == "team-a"


def test_a_projects_pipelines_resolve_its_templates_and_no_one_elses(api: Api) -> None:
    dev = api.user("dev", project="team-a")
    api.user("bert", project="team-b")
    made = api.call("POST", "/projects/team-a/templates", dev, json=_echo("team-echo"))
    assert made.status_code == 201
    ours = StoreCatalog(api.db.begin, project_id=_project_id(api, "team-a"))
    assert ours.resolve("team-echo", None).version == 1
    assert ours.resolve("shell", None).name == "shell"
    for catalog in (
        StoreCatalog(api.db.begin),  # `cube run` and `cube validate`: platform-wide only
        StoreCatalog(api.db.begin, project_id=_project_id(api, "team-b")),
    ):
        with pytest.raises(LookupError, match="unknown template 'team-echo'"):
            catalog.resolve("team-echo", None)
        assert catalog.resolve("shell", None).name == "shell"
    with api.db.begin() as conn:  # what `cube template list` shows
        builtins = sorted(t.name for t in builtin_templates())
        assert [t.name for t, _ in list_templates(conn)] == builtins


def test_registering_needs_a_platform_admin_or_a_project_developer(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    viewer = api.user("vic", project="team-a", role="viewer")
    api.user("bert", project="team-b", role="admin")
    refused = api.call("POST", "/templates", dev, json=_echo())
    assert refused.status_code == 403
    assert "needs a platform admin" in refused.json()["error"]["message"]
    refused = api.call("POST", "/projects/team-a/templates", viewer, json=_echo())
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "registering a template needs the developer role in project team-a; yours is viewer"
    )
    assert api.call("POST", "/projects/team-b/templates", dev, json=_echo()).status_code == 404
    # A refused caller learns nothing from its body: the role is checked first.
    assert api.call("POST", "/templates", dev, json={"name": 5}).status_code == 403
    assert api.call("GET", "/templates/echo", dev).status_code == 404  # nothing registered
    assert api.call("POST", "/projects/team-a/templates", admin, json=_echo()).status_code == 201


def test_versions_are_immutable_and_name_means_the_latest(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    first = api.call("POST", "/projects/team-a/templates", dev, json=_echo())
    assert (first.status_code, first.json()["version"]) == (201, 1)
    same = api.call("POST", "/projects/team-a/templates", dev, json=_echo())
    assert (same.status_code, same.json()["version"], same.json()["created"]) == (200, 1, False)
    changed = _echo(command="echo n={{ args.n }}")
    second = api.call("POST", "/projects/team-a/templates", dev, json=changed)
    assert (second.status_code, second.json()["version"]) == (201, 2)
    assert second.json()["creator"] == "dev"

    latest = api.call("GET", "/templates/echo", dev).json()
    assert (latest["version"], latest["template"]["command"]) == (2, "echo n={{ args.n }}")
    old = api.call("GET", "/templates/echo?version=1", dev).json()
    assert (old["version"], old["template"]["command"]) == (1, "echo {{ args.n }}")
    rewrite = api.call(
        "POST", "/projects/team-a/templates", dev, json=_echo(command="rm", version=1)
    )
    assert rewrite.status_code == 409
    assert "echo@1 already exists and versions are immutable" in rewrite.json()["error"]["message"]
    skipped = api.call("POST", "/projects/team-a/templates", dev, json=_echo(version=7))
    assert skipped.status_code == 409 and "the next version is 3, not 7" in skipped.text
    assert api.call("GET", "/templates/echo?version=1", dev).json()["template"] == old["template"]
    versions = api.call("GET", "/templates/echo/versions", dev).json()
    assert [(v["version"], v["creator"], v["deleted"]) for v in versions] == [
        (2, "dev", False),
        (1, "dev", False),
    ]
    missing = api.call("GET", "/templates/echo?version=9", dev)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "template echo has no version 9 (latest: 2)"


def test_names_are_unique_across_the_platform(api: Api, admin: str) -> None:
    dev_a = api.user("ann", project="team-a", role="developer")
    dev_b = api.user("bob", project="team-b", role="developer")
    assert api.call("POST", "/templates", admin, json=_echo("shared")).status_code == 201
    assert api.call("POST", "/projects/team-a/templates", dev_a, json=_echo()).status_code == 201

    taken = api.call("POST", "/projects/team-a/templates", dev_a, json=_echo("shared"))
    assert taken.status_code == 422
    error = taken.json()["error"]
    assert error["field"] == "name"
    assert "'shared' is the name of a platform-wide template" in error["message"]
    assert "unique across the platform" in error["message"]
    theirs = api.call("POST", "/projects/team-b/templates", dev_b, json=_echo())
    assert theirs.status_code == 422
    message = theirs.json()["error"]["message"]
    assert "taken by a template of another project" in message and "team-a" not in message
    platform = api.call("POST", "/templates", admin, json=_echo())
    assert platform.status_code == 422
    assert "a template of project team-a" in platform.json()["error"]["message"]
    builtin = api.call("POST", "/projects/team-a/templates", dev_a, json=_echo("shell"))
    assert builtin.status_code == 422 and "built-in template and is reserved" in builtin.text
    # Nothing of team-a's changed, and team-b still sees no echo.
    assert api.call("GET", "/templates/echo/versions", dev_a).json()[0]["version"] == 1
    assert api.call("GET", "/templates/echo", dev_b).status_code == 404


BAD_TEMPLATES = [
    "name: t\ncomand: echo hi\n",  # an unknown field, with the close match
    "name: Bad Name\ncommand: echo\n",
    "name: t\ncommand: echo {{ args.x }}\n",  # a parameter the command uses, not declared
    "name: t\ncommand: echo\nparameters:\n  - {name: n, type: integer}\n",
    "name: t\ncommand: echo\nparameters:\n  - {name: n, type: int, default: nine}\n",
    "name: t\ncommand: echo\nparameters:\n  - {name: k, type: enum}\n",
    "name: t\ncommand: [echo\n",  # not YAML
    "- just\n- a list\n",
]


@pytest.mark.parametrize("text", BAD_TEMPLATES)
def test_validation_errors_are_the_clis_with_field_paths(api: Api, admin: str, text: str) -> None:
    with pytest.raises(SpecError) as cli:
        load_template_text(text, source="yaml")  # what `cube template register` runs
    expected = [{"field": e.path or None, "message": e.message} for e in cli.value.errors]
    response = api.call("POST", "/templates", admin, json={"yaml": text})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"] == expected
    assert (error["field"] or None) == expected[0]["field"]  # api/errors.py gives "" for none
    data = yaml.safe_load(text) if "[echo" not in text else None
    if isinstance(data, dict):  # the same template as JSON: the same answer
        as_json = api.call("POST", "/templates", admin, json=data)
        assert as_json.status_code == 422 and as_json.json()["error"]["details"] == expected


def test_malformed_bodies_are_422_never_500(api: Api, admin: str) -> None:
    not_objects: list[Any] = [[1, 2], "text", None]
    for body in not_objects:
        response = api.call("POST", "/templates", admin, json=body)
        assert response.status_code == 422, (body, response.text)
    not_texts: list[dict[str, Any]] = [
        {"yaml": 5},
        {"yaml": "x" * 1_000_001},
        {"yaml": "name: t", "name": "t"},
    ]
    for body in not_texts:
        response = api.call("POST", "/templates", admin, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == "yaml"
    huge = _echo(description="x" * 1_000_001)
    too_large = api.call("POST", "/templates", admin, json=huge)
    assert too_large.status_code == 413 and "over the limit" in too_large.text
    assert api.call("GET", "/templates/echo?version=0", admin).status_code == 422
    assert api.call("GET", "/templates/echo?version=99999999999", admin).status_code == 422
    assert api.call("GET", f"/templates/{'x' * 70}", admin).status_code == 422


def test_delete_follows_the_clis_rules(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a", role="developer")
    viewer = api.user("vic", project="team-a", role="viewer")
    project_id = _project_id(api, "team-a")
    for command in ("echo 1 {{ args.n }}", "echo 2 {{ args.n }}", "echo 3 {{ args.n }}"):
        made = api.call("POST", "/projects/team-a/templates", dev, json=_echo(command=command))
        assert made.status_code == 201
    one = TemplateSpec.model_validate(
        api.call("GET", "/templates/echo?version=1", dev).json()["template"]
    )
    two = TemplateSpec.model_validate(
        api.call("GET", "/templates/echo?version=2", dev).json()["template"]
    )
    task = {"name": "t", "template": "echo@1", "args": {"n": 1}}
    spec = pipeline_from_data({"name": "p", "tasks": [task]}, check=False)
    with api.db.begin() as conn:
        run_id = insert_new_run(
            conn, spec=spec, params={}, now=NOW, templates={"echo@1": one}, project_id=project_id
        )
    task = {**task, "template": "echo"}  # the schedule pins the latest then: echo@2
    scheduled = pipeline_from_data(
        {"name": "nightly", "tasks": [task], "schedule": {"cron": "@daily"}}, check=False
    )
    apply_schedule(
        api.db, spec=scheduled, templates={"echo": two}, user="dev", now=NOW, project_id=project_id
    )

    no_version = api.call("DELETE", "/templates/echo", dev)
    assert no_version.status_code == 422 and no_version.json()["error"]["field"] == "version"
    used = api.call("DELETE", "/templates/echo?version=1", dev)
    assert used.status_code == 409
    assert used.json()["error"]["message"] == (
        f"echo@1 is used by run(s) {run_id}: a version a run used is kept as the record of "
        "what ran (register a new version instead)"
    )
    pinned = api.call("DELETE", "/templates/echo?version=2", dev)
    assert pinned.status_code == 409
    assert "echo@2 is pinned by the schedule of pipeline(s) nightly" in pinned.text
    refused = api.call("DELETE", "/templates/echo?version=3", viewer)
    assert refused.status_code == 403
    assert "deleting a template needs the developer role" in refused.json()["error"]["message"]

    gone = api.call("DELETE", "/templates/echo?version=3", dev)
    assert (gone.status_code, gone.json()) == (200, {"name": "echo", "version": 3, "deleted": True})
    again = api.call("GET", "/templates/echo?version=3", dev)
    assert again.status_code == 404 and "echo@3 was deleted on" in again.text
    assert "by dev (latest: 2)" in again.json()["error"]["message"]
    assert api.call("GET", "/templates/echo", dev).json()["version"] == 2
    versions = api.call("GET", "/templates/echo/versions", dev).json()
    assert [(v["version"], v["deleted"], v["deleted_by"]) for v in versions] == [
        (3, True, "dev"),
        (2, False, None),
        (1, False, None),
    ]
    reborn = api.call("POST", "/projects/team-a/templates", dev, json=_echo(command="echo 3"))
    assert reborn.json()["version"] == 4  # a deleted number is never given again
    assert api.call("GET", "/templates/echo?version=1", dev).status_code == 200  # all kept


def test_platform_templates_are_deleted_by_platform_admins_only(api: Api, admin: str) -> None:
    dev = api.user("dev", project="team-a", role="admin")  # a project admin: not enough
    assert api.call("POST", "/templates", admin, json=_echo("shared")).status_code == 201
    refused = api.call("DELETE", "/templates/shared?version=1", dev)
    assert refused.status_code == 403
    assert "needs a platform admin" in refused.json()["error"]["message"]
    builtin = api.call("DELETE", "/templates/shell?version=1", admin)
    assert builtin.status_code == 409 and "built-in versions are kept" in builtin.text
    deleted = api.call("DELETE", "/templates/shared?version=1", admin)
    assert deleted.status_code == 200
    assert "shared" not in _names(api, dev)


def _template_files() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))


def test_the_schema_of_every_shipped_template_is_valid_and_matches_it(api: Api, admin: str) -> None:
    for file in sorted(EXAMPLES.glob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        assert api.call("POST", "/templates", admin, json={"yaml": text}).status_code == 201
    assert len(_template_files()) >= 5
    for file in _template_files():
        template = TemplateSpec.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
        response = api.call("GET", f"/templates/{template.name}/schema", admin)
        assert response.status_code == 200, file
        schema = response.json()
        jsonschema.Draft202012Validator.check_schema(schema)
        params = template.parameters
        assert list(schema["properties"]) == [p.name for p in params]
        assert [schema["properties"][p.name]["x-order"] for p in params] == list(range(len(params)))
        assert schema["required"] == [p.name for p in params if p.required and p.default is None]
        # A form filled with the defaults, and text where a value is required, is valid.
        form = {p.name: p.default for p in params if p.default is not None}
        form.update(dict.fromkeys(schema["required"], "x"))
        jsonschema.validate(form, schema)
        assert all(schema["properties"][name]["type"] == "string" for name in schema["required"])
        for param in params:
            prop = schema["properties"][param.name]
            assert prop["x-type"] == param.type
            assert prop.get("default") == param.default
            assert prop.get("description", "") == param.description
            assert prop.get("x-group", "") == param.group
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"no_such_parameter": 1}, schema)


def test_palette_details_and_export_round_trip(api: Api, admin: str) -> None:
    text = (EXAMPLES / "sklearn-train.yaml").read_text(encoding="utf-8")
    assert api.call("POST", "/templates", admin, json={"yaml": text}).status_code == 201
    detail = api.call("GET", "/templates/sklearn-train", admin).json()
    assert detail["category"] == "training"
    assert detail["image"] == "python:3.11-slim"
    assert detail["description"] == "Train a scikit-learn classifier on a CSV data set."
    assert detail["template"]["parameters"][0]["choices"] == ["logistic", "random_forest"]
    exported = api.call("GET", "/templates/sklearn-train/export", admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    data = yaml.safe_load(exported.text)
    assert "version" not in data
    assert TemplateSpec.model_validate(data) == TemplateSpec.model_validate(yaml.safe_load(text))
    again = api.call("POST", "/templates", admin, json={"yaml": exported.text})
    assert (again.status_code, again.json()["created"]) == (200, False)
