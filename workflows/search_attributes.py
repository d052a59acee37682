"""Search attributes of a case workflow: facts to filter by, never personal data."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate

from domain.case import CaseState

CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_DEPARTMENT = SearchAttributeKey.for_keyword("CaseDepartment")
CASE_GRID = SearchAttributeKey.for_keyword("CaseGrid")
CASE_CATEGORY = SearchAttributeKey.for_keyword("CaseCategory")
CASE_DUE_AT = SearchAttributeKey.for_datetime("CaseStageDueAt")
CASE_OVERDUE = SearchAttributeKey.for_bool("CaseOverdue")
CASE_LIGHT = SearchAttributeKey.for_keyword("CaseLight")
CASE_SUPERVISION = SearchAttributeKey.for_keyword("CaseSupervision")

ALL_KEYS = (
    CASE_STATUS,
    CASE_STAGE,
    CASE_DEPARTMENT,
    CASE_GRID,
    CASE_CATEGORY,
    CASE_DUE_AT,
    CASE_OVERDUE,
    CASE_LIGHT,
    CASE_SUPERVISION,
)


def registration_args() -> list[str]:
    """``--search-attribute Name=Type`` pairs for ``temporal server start-dev``."""
    types = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}
    args: list[str] = []
    for key in ALL_KEYS:
        args += ["--search-attribute", f"{key.name}={types[key.indexed_value_type.name]}"]
    return args


def initial_pairs(category: str, grid: str) -> list[SearchAttributePair[str]]:
    return [SearchAttributePair(CASE_CATEGORY, category), SearchAttributePair(CASE_GRID, grid)]


def updates_for(state: CaseState) -> list[SearchAttributeUpdate[Any]]:
    updates: list[SearchAttributeUpdate[Any]] = [
        CASE_STATUS.value_set(state.status.value if state.status else ""),
        CASE_STAGE.value_set(state.stage.value if state.stage else ""),
        CASE_GRID.value_set(state.grid),
        CASE_CATEGORY.value_set(state.category),
        CASE_OVERDUE.value_set(state.stage_overdue),
        CASE_LIGHT.value_set(state.light.value),
        CASE_SUPERVISION.value_set(
            state.supervision_level.value if state.supervision_level else "none"
        ),
    ]
    updates.append(
        CASE_DEPARTMENT.value_set(state.department)
        if state.department
        else CASE_DEPARTMENT.value_unset()
    )
    updates.append(
        CASE_DUE_AT.value_set(state.stage_due_at)
        if state.stage_due_at
        else CASE_DUE_AT.value_unset()
    )
    return updates
