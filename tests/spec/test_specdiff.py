"""The breaking-change report's classification (scripts/specdiff.py) on a table of spec pairs:
each row changes one thing of a small spec that has the constructs openapi.yaml uses, and
names every change the report must give, breaking or not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.scripts_modules import load

specdiff = load("specdiff")
spec_report = load("spec_report")

Spec = dict[str, Any]


def base() -> Spec:
    """Create (a request model in, a response model out), get and list with a query."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "components": {
            "schemas": {
                "Key": {"type": "string", "minLength": 1, "maxLength": 255},
                "Status": {"type": "string", "enum": ["pending", "accepted"]},
                "CreateRequest": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["key", "quantity"],
                    "properties": {
                        "key": {"$ref": "#/components/schemas/Key"},
                        "quantity": {"type": "number", "minimum": 1},
                        "note": {"type": "string"},
                    },
                },
                "Event": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "description": {"type": ["string", "null"]},
                        "billing": {
                            "anyOf": [{"$ref": "#/components/schemas/Billing"}, {"type": "null"}]
                        },
                    },
                },
                "Billing": {"type": "object", "properties": {"total": {"type": "integer"}}},
            },
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
            },
        },
        "paths": {
            "/v0/usage": {
                "post": {
                    "operationId": "createUsageEvent",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CreateRequest"}
                            }
                        },
                    },
                    "responses": {"201": created()},
                },
                "get": {
                    "operationId": "listUsageEvents",
                    "parameters": [
                        {"name": "customerId", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "maximum": 100},
                        },
                    ],
                    "responses": {"200": created()},
                },
            },
            "/v0/usage/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {"operationId": "getUsageEvent", "responses": {"200": created()}},
            },
        },
    }


def created() -> Spec:
    schema = {"$ref": "#/components/schemas/Event"}
    return {"description": "d", "content": {"application/json": {"schema": schema}}}


def schemas(spec: Spec) -> Spec:
    found: Spec = spec["components"]["schemas"]
    return found


def list_parameters(spec: Spec) -> list[Spec]:
    found: list[Spec] = spec["paths"]["/v0/usage"]["get"]["parameters"]
    return found


def add_delete(spec: Spec) -> None:
    spec["paths"]["/v0/usage/{id}"]["delete"] = {
        "operationId": "deleteUsageEvent",
        "responses": {"204": {"description": "gone"}},
    }


def rename_field(spec: Spec) -> None:
    props = schemas(spec)["CreateRequest"]["properties"]
    props["comment"] = props.pop("note")


B, A = True, False  # breaking, or an addition (a change that breaks nothing)
CASES: list[tuple[str, Callable[[Spec], object], set[tuple[bool, str, str]]]] = [
    ("nothing", lambda s: None, set()),
    (
        "new optional field",
        lambda s: schemas(s)["Event"]["properties"].update(source={"type": "string"}),
        {(A, "added field", "Event.source")},
    ),
    (
        "new enum value",
        lambda s: schemas(s)["Status"]["enum"].append("declined"),
        {(A, "added enum value", "Status.declined")},
    ),
    (
        "removed enum value",
        lambda s: schemas(s)["Status"]["enum"].remove("accepted"),
        {(B, "removed enum value", "Status.accepted")},
    ),
    (
        "new optional query parameter",
        lambda s: list_parameters(s).append(
            {"name": "billableMetricId", "in": "query", "schema": {"type": "string"}}
        ),
        {(A, "added parameter", "listUsageEvents.billableMetricId")},
    ),
    (
        "new required query parameter",
        lambda s: list_parameters(s).append(
            {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        {(B, "new required parameter", "listUsageEvents.region")},
    ),
    (
        "parameter became required",
        lambda s: list_parameters(s)[0].update(required=True),
        {(B, "became required", "listUsageEvents.customerId")},
    ),
    (
        "removed parameter",
        lambda s: list_parameters(s).pop(0),
        {(B, "removed parameter", "listUsageEvents.customerId")},
    ),
    (
        "renamed parameter",
        lambda s: list_parameters(s)[0].update(name="customer"),
        {(B, "renamed parameter", "listUsageEvents.customerId")},
    ),
    (
        "tighter parameter maximum",
        lambda s: list_parameters(s)[1]["schema"].update(maximum=50),
        {(B, "narrowed type", "listUsageEvents.limit")},
    ),
    (
        "looser parameter maximum",
        lambda s: list_parameters(s)[1]["schema"].update(maximum=500),
        {(A, "widened type", "listUsageEvents.limit")},
    ),
    (
        "new operation",
        add_delete,
        {(A, "added operation", "deleteUsageEvent")},
    ),
    (
        "removed operation",
        lambda s: s["paths"]["/v0/usage/{id}"].pop("get"),
        {(B, "removed operation", "getUsageEvent")},
    ),
    (
        "renamed operation",
        lambda s: s["paths"]["/v0/usage/{id}"]["get"].update(operationId="fetchUsageEvent"),
        {(B, "renamed operation", "getUsageEvent")},
    ),
    (
        "removed response field",
        lambda s: schemas(s)["Event"]["properties"].pop("description"),
        {(B, "removed field", "Event.description")},
    ),
    ("renamed request field", rename_field, {(B, "renamed field", "CreateRequest.note")}),
    (
        "request field became required",
        lambda s: schemas(s)["CreateRequest"]["required"].append("note"),
        {(B, "became required", "CreateRequest.note")},
    ),
    (
        "response field became required: readers get more",
        lambda s: schemas(s)["Event"]["required"].append("description"),
        {(A, "became required", "Event.description")},
    ),
    (
        "response field became optional: readers may get nothing",
        lambda s: schemas(s)["Event"]["required"].remove("status"),
        {(B, "became optional", "Event.status")},
    ),
    (
        "request type narrowed (a number now an integer)",
        lambda s: schemas(s)["CreateRequest"]["properties"]["quantity"].update(type="integer"),
        {(B, "changed type", "CreateRequest.quantity")},
    ),
    (
        "response type narrowed (no longer nullable): breaks nobody",
        lambda s: schemas(s)["Event"]["properties"]["description"].update(type="string"),
        {(A, "narrowed type", "Event.description")},
    ),
    (
        "response type widened (now nullable): readers may get None",
        lambda s: schemas(s)["Event"]["properties"]["id"].update(type=["string", "null"]),
        {(B, "widened type", "Event.id")},
    ),
    (
        "tighter constraint of an alias, written out where it is used",
        lambda s: schemas(s)["Key"].update(maxLength=64),
        {(B, "narrowed type", "CreateRequest.key")},
    ),
    (
        "new required request field",
        lambda s: (
            schemas(s)["CreateRequest"]["properties"].update(unit={"type": "string"}),
            schemas(s)["CreateRequest"]["required"].append("unit"),
        ),
        {(B, "new required field", "CreateRequest.unit")},
    ),
    (
        "removed model",
        lambda s: (
            schemas(s).pop("Billing"),
            schemas(s)["Event"]["properties"].pop("billing"),
        ),
        {(B, "removed model", "Billing"), (B, "removed field", "Event.billing")},
    ),
    (
        "new model",
        lambda s: schemas(s).update(Refund={"type": "object", "properties": {}}),
        {(A, "added model", "Refund")},
    ),
    (
        "field of a nested model removed",
        lambda s: schemas(s)["Billing"]["properties"].pop("total"),
        {(B, "removed field", "Billing.total")},
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_each_change_is_classified(change: Callable[[Spec], object], expected: set[Any]) -> None:
    old, new = base(), base()
    change(new)
    found = {(c.breaking, c.kind, c.name) for c in specdiff.compare(old, new)}
    assert found == expected


def test_the_report_lists_breaking_changes_first_and_then_additions() -> None:
    new = base()
    schemas(new)["Event"]["properties"].pop("description")
    add_delete(new)

    text = spec_report.render(specdiff.compare(base(), new), "HEAD")

    assert text.index("BREAKING") < text.index("removed field: Event.description")
    assert text.index("removed field: Event.description") < text.index("additions")
    assert text.index("additions") < text.index("added operation: deleteUsageEvent")
    assert spec_report.render([], "HEAD") == "openapi.yaml: no change to the API since HEAD\n"


def test_a_breaking_change_counts_as_mentioned_when_unreleased_names_it(tmp_path: Path) -> None:
    new = copy.deepcopy(base())
    schemas(new)["Event"]["properties"].pop("description")
    changes = specdiff.compare(base(), new)
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n## [Unreleased]\n\n### Changed\n- nothing yet\n\n"
        "## [0.2.0] - 2026-12-01\n- `Event.description` was added\n"
    )
    # Named only under a release: not mentioned.
    unreleased = spec_report.unreleased_section(changelog)
    assert [c.name for c in spec_report.unmentioned(changes, unreleased)] == ["Event.description"]
    assert spec_report.latest_release(changelog) == "0.2.0"

    changelog.write_text(
        changelog.read_text().replace("- nothing yet", "- `Event.description` is gone")
    )
    assert spec_report.unmentioned(changes, spec_report.unreleased_section(changelog)) == []


def test_the_real_spec_compared_with_itself_has_no_change() -> None:
    spec = specdiff.load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    assert specdiff.compare(spec, copy.deepcopy(spec)) == []
