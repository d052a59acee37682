"""The API's step routes and bodies and the CLI's step commands are derived from the step
declarations: every person's step has its route (with its stable operation id) and its
command, every input of the step is a field of the body (described, with its text rule and
examples) and an option of the command, and what README.md and docs/process.md show still
parses. A step declared without a front end, or a front end missing a field, fails here."""

from __future__ import annotations

import dataclasses
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing

from api.app import create_app
from api.steps import STEP_BODIES
from application.config import Settings
from application.steps import CALLER
from domain.steps import UPDATE_STEPS, Step
from domain.steps.table import process_table
from gridcase.cli_case import case_app
from gridcase.cli_steps import step_command

ROOT = Path(__file__).resolve().parents[2]
# Operation ids clients and docs use: they must stay (a new step adds its own).
OPERATION_IDS = {
    "case_file",
    "case_reject",
    "case_dispatch",
    "case_sign_for",
    "case_feedback",
    "case_check",
    "case_close",
    "case_request_verification",
    "case_record_verification",
    "case_verification",
    "case_review_self_handling",
    "case_cancel",
    "case_merge",
    "case_request_extension",
    "case_decide_extension",
    "case_request_return",
    "case_decide_return",
    "case_request_suspension",
    "case_decide_suspension",
    "case_resume",
    "case_urge",
    "case_supervise",
    "case_reply_supervision",
}


@cache
def openapi() -> dict[str, Any]:
    return create_app(Settings.from_env()).openapi()


@cache
def cli() -> Any:
    """`gridcase case` as a click group (typer's own vendored click, or click itself)."""
    return typer.main.get_command(case_app)


def body_schema(step: Step) -> dict[str, Any]:
    operation = openapi()["paths"][f"/v1/cases/{{case_id}}/{step.name}"]["post"]
    content = operation["requestBody"]["content"]["application/json"]["schema"]
    ref = content.get("$ref") or next(s["$ref"] for s in content["anyOf"] if "$ref" in s)
    schema: dict[str, Any] = openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_the_operation_ids_of_today_stay_and_every_step_has_its_own() -> None:
    ids = {
        op["operationId"]
        for path, ops in openapi()["paths"].items()
        if path.startswith("/v1/cases/{case_id}/")
        for op in ops.values()
    }
    assert ids >= OPERATION_IDS
    assert {f"case_{name}" for name in UPDATE_STEPS} <= ids


@pytest.mark.parametrize("step", UPDATE_STEPS.values(), ids=lambda s: s.name)
def test_every_step_has_a_route_whose_body_is_its_inputs(step: Step) -> None:
    operation = openapi()["paths"][f"/v1/cases/{{case_id}}/{step.name}"]["post"]
    assert operation["operationId"] == f"case_{step.name}"
    assert step.zh in operation["summary"] and step.zh in operation["description"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    schema = body_schema(step)
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert set(properties) == {f.name for f in step.inputs}
    assert set(schema.get("required", ())) == {f.name for f in step.inputs if f.required}
    for f in step.inputs:
        prop = properties[f.name]
        assert prop["description"] == f.help
        if f.examples:
            assert prop["examples"] == list(f.examples)
        if f.text is not None and f.type is str:
            assert prop["maxLength"] == f.text.max_length
        if f.text is not None and f.type == tuple[str, ...]:
            assert prop["maxItems"] == f.text.max_items


def test_the_body_of_today_for_extension_keeps_its_examples() -> None:
    amount = body_schema(UPDATE_STEPS["request_extension"])["properties"]["amount"]
    assert amount["examples"] == ["2 working_days", "4 working_hours"]


def _values(step: Step) -> dict[str, Any]:
    """A value for every input: the flag's true side, a text, a photo, an enum member."""
    values: dict[str, Any] = {}
    for f in step.inputs:
        if f.type is bool:
            values[f.name] = True
        elif f.type == tuple[str, ...]:
            values[f.name] = ["sha256:" + "a" * 64]
        elif f.type is str:
            values[f.name] = f.examples[0] if f.examples else f"{f.name} 文本"
        else:
            values[f.name] = next(iter(f.type)).value
    return values


@pytest.mark.parametrize("step", UPDATE_STEPS.values(), ids=lambda s: s.name)
def test_a_body_becomes_the_steps_command_field_by_field(step: Step) -> None:
    values = _values(step)
    command = STEP_BODIES[step.name].model_validate(values).command()
    assert type(command) is step.command and command.actor == CALLER
    for name, value in values.items():
        got = getattr(command, name)
        assert (list(got) if isinstance(got, tuple) else getattr(got, "value", got)) == value


@pytest.mark.parametrize("step", UPDATE_STEPS.values(), ids=lambda s: s.name)
def test_every_step_has_a_cli_command_with_an_option_per_input(step: Step) -> None:
    command = cli().commands.get(step.cli)
    assert command is not None, f"no `gridcase case {step.cli}`"
    options: dict[str, Any] = {}
    for param in command.params:
        for spelled in [*param.opts, *getattr(param, "secondary_opts", [])]:
            options[spelled] = param
    assert {"--as", "--idempotency-key"} <= set(options)
    for f in step.inputs:
        for spelled in f.flags or (f.option,):
            assert spelled in options, (step.cli, spelled)
        param = options[(f.flags or (f.option,))[0]]
        assert param.required == f.required, (step.cli, f.name)
        if f.type == tuple[str, ...]:
            assert param.multiple, (step.cli, f.option)


@pytest.mark.parametrize("step", UPDATE_STEPS.values(), ids=lambda s: s.name)
def test_the_cli_command_hands_over_every_value(step: Step) -> None:
    handed: list[tuple[str, str, Step, dict[str, Any], str | None]] = []
    group = typer.Typer()
    group.command(step.cli)(step_command(step, lambda *a: handed.append(a)))
    group.command("noop")(lambda: None)  # a group, so the command is addressed by name
    args = [step.cli, "c-1", "--as", "x:y", "--idempotency-key", "k-1"]
    values = _values(step)
    for f in step.inputs:
        if f.type is bool:
            args.append(f.flags[0] if f.flags else "")
        elif f.type == tuple[str, ...]:
            args += [f.option, values[f.name][0]]
        else:
            args += [f.option, values[f.name]]
    result = typer.testing.CliRunner().invoke(group, args)
    assert result.exit_code == 0, result.output
    [(case_id, as_, got_step, got, key)] = handed
    assert (case_id, as_, got_step, key) == ("c-1", "x:y", step, "k-1")
    expected = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    assert {k: getattr(v, "value", v) for k, v in got.items()} == expected


def _readme_cli_lines() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        match = re.match(r"^\$G case (\S.*)$", line.strip())
        if match:
            lines.append(shlex.split(match.group(1), comments=True))
    assert len(lines) >= 8, "the README's CLI walkthrough moved: update this test"
    return lines


@pytest.mark.parametrize("args", _readme_cli_lines(), ids=lambda a: a[0])
def test_the_readme_cli_walkthrough_parses(args: list[str]) -> None:
    command = cli().commands[args[0]]
    command.make_context(args[0], args[1:])  # raises on an unknown option or a missing one


def test_the_readme_http_walkthrough_bodies_validate() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    calls = re.findall(r"^step (\w+)\s+\"\$\w+\"\s+'(\{.*?\})'", text, flags=re.M)
    assert len(calls) >= 7, "the README's HTTP walkthrough moved: update this test"
    for name, body in calls:
        STEP_BODIES[name].model_validate_json(body)


def test_the_process_table_names_each_steps_cli_spelling() -> None:
    table = process_table()
    for step in UPDATE_STEPS.values():
        row = next(line for line in table.splitlines() if f"(`{step.name}`)" in line)
        assert f"`{step.cli}" in row
        for f in step.inputs:
            for spelled in f.flags or (f.option,):
                assert spelled in row, (step.name, spelled)


def test_every_command_field_a_person_fills_is_a_step_input() -> None:
    for step in UPDATE_STEPS.values():
        asked = {f.name for f in step.inputs}
        for f in dataclasses.fields(step.command):
            if f.name not in asked:
                assert f.metadata["gridcase.input"].by_application, (step.name, f.name)
    assert {f.name for f in UPDATE_STEPS["dispatch"].inputs} == {"department", "note"}


def test_the_readme_walkthroughs_use_case_ids_of_their_own() -> None:
    # Followed in order, the HTTP walkthrough must not meet the CLI walkthrough's case.
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    cli_ids = {args[1] for args in _readme_cli_lines() if len(args) > 1 and args[0] != "show"}
    cli_ids |= set(re.findall(r"^\$G report --id (\S+)", text, flags=re.M))
    http_ids = set(re.findall(r'"report_id":"([^"]+)"', text))
    http_ids |= set(re.findall(r"/v1/cases/([\w-]+)/", text))
    assert cli_ids and http_ids, "a walkthrough moved: update this test"
    assert not cli_ids & http_ids, cli_ids & http_ids
