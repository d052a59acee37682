"""Reference data on a real PostgreSQL: import and reload the taxonomy, the demo district and
routing; idempotent re-imports; replacement; cross-kind checks; the `gridcase reference` CLI."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table, text
from typer.testing import CliRunner

from domain.demo_district import DEMO_BBOX, generate_demo_district
from domain.geo import PointOutsideGrids
from domain.routing import ANY, InvalidRouting, Router, RoutingRule
from domain.taxonomy import Taxonomy, default_taxonomy
from gridcase.cli import app
from gridcase.cli_reference import reference_app
from store.db import make_engine
from store.models import Base
from store.reference import (
    NoDistrictLoaded,
    ReferenceConflict,
    import_district,
    import_routing,
    import_taxonomy,
    load_district,
    load_router,
    load_taxonomy,
    locate_grid,
    reference_status,
)

REFERENCE_TABLES = {
    "departments",
    "major_classes",
    "categories",
    "org_units",
    "responsibility_grids",
    "grid_workers",
    "routing_rules",
    "reference_versions",
    "calendar_years",
}
EXTENSION: dict[str, Any] = {
    "departments": [{"code": "property_mgmt", "name_zh": "物业", "name_en": "Property management"}],
    "major_classes": [
        {"kind": "component", "code": "07", "name_zh": "智慧设施", "name_en": "Smart facilities"}
    ],
    "categories": [
        {
            "code": "C0701",
            "name_zh": "智能充电桩",
            "name_en": "Smart charging post",
            "urgency": "ordinary",
            "default_department": "property_mgmt",
            "self_handling": False,
            "conditions": [
                {
                    "id": "C0701-01",
                    "description_zh": "充电桩损坏",
                    "description_en": "Charging post broken",
                    "limit": "2 working_days",
                    "closing_zh": "充电桩可正常使用",
                    "closing_en": "Charging post works",
                    "basis": "local rule (test)",
                }
            ],
        }
    ],
}


@pytest.fixture
def engine(fresh_db_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_db_url, pool_size=2)
    yield engine
    engine.dispose()


def extended() -> Taxonomy:
    return default_taxonomy().extend(EXTENSION)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def row_versions(engine: Engine, table: str) -> list[str]:
    """xmin of every row: unchanged when, and only when, no row was rewritten."""
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT xmin::text FROM {table} ORDER BY 1")).scalars())


# -- schema --------------------------------------------------------------------------------
def test_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in _flatten(diffs) if _table_of(d) in REFERENCE_TABLES]
    assert ours == []


def _flatten(diffs: list[Any]) -> Iterator[Any]:
    for d in diffs:
        yield from (d if isinstance(d, list) else [d])


def _table_of(diff: tuple[Any, ...]) -> str | None:
    # ("add_table", Table), ("add_index", Index), ("add_fk", ForeignKeyConstraint),
    # ("add_column", schema, "table", Column), ("modify_nullable", schema, "table", …)
    for part in diff[1:]:
        if isinstance(part, str):
            return part
        if isinstance(part, Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, Table):
            return table.name
    return None


# -- empty database ------------------------------------------------------------------------
def test_an_empty_database_falls_back_to_the_shipped_taxonomy(engine: Engine) -> None:
    assert load_taxonomy(engine) == default_taxonomy()
    assert load_router(engine) == Router(default_taxonomy())
    with pytest.raises(NoDistrictLoaded, match="no district is loaded"):
        load_district(engine)
    with pytest.raises(NoDistrictLoaded):
        locate_grid(engine, 113.68, 34.78)
    status = reference_status(engine)
    assert set(status.rows.values()) == {0}
    assert status.versions == {}


# -- taxonomy ------------------------------------------------------------------------------
def test_taxonomy_round_trip_keeps_extensions_marked(engine: Engine) -> None:
    taxonomy = extended()
    result = import_taxonomy(engine, taxonomy, source="test")
    assert result.changed
    assert result.counts == {
        "departments": len(taxonomy.departments),
        "major_classes": len(taxonomy.major_classes),
        "categories": len(taxonomy.categories),
    }
    loaded = load_taxonomy(engine)
    assert loaded == taxonomy
    assert loaded.category("C0701").extension
    assert loaded.department("property_mgmt").extension
    assert not loaded.category("E0101").extension
    assert loaded.condition("C0101-01") == taxonomy.condition("C0101-01")
    version = reference_status(engine).versions["taxonomy"]
    assert (version.version, version.source, version.checksum) == (
        result.version,
        "test",
        result.checksum,
    )


def test_reimporting_the_same_taxonomy_changes_nothing(engine: Engine) -> None:
    first = import_taxonomy(engine, extended())
    before = {t: row_versions(engine, t) for t in ("departments", "categories")}
    progress: list[tuple[int, int]] = []
    again = import_taxonomy(engine, extended(), progress=lambda d, t: progress.append((d, t)))
    assert not again.changed
    assert (again.version, again.checksum) == (first.version, first.checksum)
    assert {t: row_versions(engine, t) for t in before} == before
    assert scalar(engine, "SELECT count(*) FROM reference_versions") == 1
    assert progress[-1][0] == progress[-1][1]


def test_a_changed_taxonomy_replaces_the_old_one(engine: Engine) -> None:
    import_taxonomy(engine, extended())
    progress: list[tuple[int, int]] = []
    result = import_taxonomy(
        engine, default_taxonomy(), progress=lambda d, t: progress.append((d, t))
    )
    assert result.changed
    assert load_taxonomy(engine) == default_taxonomy()
    assert "C0701" not in load_taxonomy(engine)
    assert scalar(engine, "SELECT count(*) FROM categories WHERE extension") == 0
    assert scalar(engine, "SELECT count(*) FROM reference_versions WHERE kind = 'taxonomy'") == 2
    total = sum(result.counts.values())
    assert progress[0] == (0, total) and progress[-1] == (total, total)


# -- district ------------------------------------------------------------------------------
def test_demo_district_round_trip_and_locate(engine: Engine) -> None:
    district = generate_demo_district(3)
    result = import_district(engine, district, source="seed 3")
    assert result.changed
    assert (result.counts["grid"], result.counts["community"], result.counts["street"]) == (
        108,
        11,
        3,
    )
    assert result.counts["grid_workers"] == 108
    loaded = load_district(engine)
    assert loaded == district
    assert loaded.synthetic
    assert loaded.departments == district.departments
    # bbox columns: the district's box is the demo rectangle (its four corners are fixed).
    with engine.connect() as conn:
        box = conn.execute(
            text("SELECT min_lon, min_lat, max_lon, max_lat FROM org_units WHERE level='district'")
        ).one()
        worker = conn.execute(
            text("SELECT grid_codes FROM grid_workers WHERE id = :id"),
            {"id": district.workers[0].id},
        ).scalar_one()
    assert tuple(box) == pytest.approx(DEMO_BBOX)
    assert worker == [district.grids[0].code]

    rng = random.Random(7)
    west, south, east, north = DEMO_BBOX
    points = [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(150)]
    # Shared corners and edges of grids: the boundary rule must survive the round trip.
    for grid in district.grids[:20]:
        assert grid.area is not None
        ring = grid.area.polygons[0].exterior
        points += list(ring)
        points += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in pairwise(ring)]
    points += [(east, north), (west, south), (east, (south + north) / 2)]
    for lon, lat in points:
        expected = district.locate(lon, lat)
        assert loaded.locate(lon, lat) == expected
        assert locate_grid(engine, lon, lat) == expected
    for lon, lat in ((113.0, 34.78), (113.68, 35.0), (east + 1e-9, north)):
        with pytest.raises(PointOutsideGrids):
            loaded.locate(lon, lat)
        with pytest.raises(PointOutsideGrids):
            locate_grid(engine, lon, lat)


def test_district_reimport_is_idempotent_and_a_new_one_replaces_it(engine: Engine) -> None:
    first = import_district(engine, generate_demo_district(1))
    before = row_versions(engine, "org_units")
    again = import_district(engine, generate_demo_district(1))
    assert not again.changed and again.version == first.version
    assert row_versions(engine, "org_units") == before

    other = generate_demo_district(2)
    replaced = import_district(engine, other)
    assert replaced.changed and replaced.version > first.version
    assert load_district(engine) == other
    assert scalar(engine, "SELECT count(*) FROM org_units WHERE level = 'grid'") == 108
    assert scalar(engine, "SELECT count(*) FROM reference_versions WHERE kind = 'district'") == 2


def test_a_district_naming_an_unknown_department_is_refused(engine: Engine) -> None:
    taxonomy = extended()
    with_local = generate_demo_district(0, taxonomy=taxonomy)  # C0701 → property_mgmt
    assert taxonomy.department("property_mgmt") in with_local.departments
    with pytest.raises(ReferenceConflict, match="property_mgmt"):
        import_district(engine, with_local)  # the shipped taxonomy lacks it
    assert scalar(engine, "SELECT count(*) FROM org_units") == 0
    import_taxonomy(engine, taxonomy)
    import_district(engine, with_local)
    assert load_district(engine) == with_local
    # The taxonomy can no longer drop a department the district lists.
    with pytest.raises(ReferenceConflict, match="property_mgmt"):
        import_taxonomy(engine, default_taxonomy())
    assert load_taxonomy(engine) == taxonomy


# -- routing -------------------------------------------------------------------------------
def test_routing_round_trip_idempotence_and_replacement(engine: Engine) -> None:
    rules = (
        RoutingRule("E01", "410105001", "street_office", note="street office cleans its lanes"),
        RoutingRule(ANY, "410105002001001", "fire"),
    )
    router = Router(default_taxonomy(), rules)
    first = import_routing(engine, router, source="rules.json")
    assert first.changed and first.counts == {"routing_rules": 2}
    loaded = load_router(engine)
    assert loaded == router
    assert loaded.route("E0101", "410105001001001").department == "street_office"
    assert loaded.route("E0101", "410105003001001").is_default

    assert not import_routing(engine, router).changed
    smaller = Router(default_taxonomy(), rules[1:])
    assert import_routing(engine, smaller).changed
    assert load_router(engine) == smaller
    assert import_routing(engine, Router(default_taxonomy())).counts == {"routing_rules": 0}
    assert load_router(engine) == Router(default_taxonomy())


def test_routing_is_checked_against_the_stored_taxonomy(engine: Engine) -> None:
    local_rule = RoutingRule("C07", ANY, "property_mgmt")
    router = Router(extended(), (local_rule,))
    with pytest.raises(InvalidRouting, match="property_mgmt"):
        import_routing(engine, router)  # the database holds only the shipped taxonomy
    assert scalar(engine, "SELECT count(*) FROM reference_versions") == 0

    import_taxonomy(engine, extended())
    import_routing(engine, router)
    assert load_router(engine).route("C0701", "410105001001001").department == "property_mgmt"
    # Dropping the extension now would leave the rule dangling: refused, nothing changes.
    with pytest.raises(ReferenceConflict, match="routing rules"):
        import_taxonomy(engine, default_taxonomy())
    assert load_taxonomy(engine) == extended()
    assert load_router(engine) == router


# -- CLI -----------------------------------------------------------------------------------
@pytest.fixture
def cli(fresh_db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, main: bool = False) -> Any:
        return runner.invoke(
            app if main else reference_app,
            ["reference", *args] if main else list(args),
            env={"DATABASE_URL": fresh_db_url, "GRIDCASE_LOG_FORMAT": "console"},
        )

    return invoke


def test_cli_seed_show_locate_route(cli: Any, tmp_path: Path) -> None:
    district = generate_demo_district(4)
    seeded = cli("seed-demo", "--seed", "4")
    assert seeded.exit_code == 0, seeded.output
    assert seeded.stdout.count("imported as version") == 3
    assert cli("seed-demo", "--seed", "4").stdout.count("unchanged") == 3

    shown = cli("show", main=True)  # also proves the group is registered on `gridcase`
    assert shown.exit_code == 0, shown.output
    assert re.search(r"grid workers 网格员\s*│\s*108\s*│", shown.stdout)
    assert re.search(r"org units 组织单元\s*│\s*123\s*│", shown.stdout)  # 1 + 3 + 11 + 108
    assert "seed-demo --seed 4 (synthetic)" in shown.stdout

    lon, lat = 113.681, 34.783
    located = cli("locate", str(lon), str(lat))
    assert located.exit_code == 0, located.output
    code = district.locate(lon, lat)
    assert f"unit grid 单元网格: {code}" in located.stdout
    assert f"grid worker 网格员: {district.worker_for_grid(code).id}" in located.stdout  # type: ignore[union-attr]

    outside = cli("locate", "120.0", "30.0")
    assert outside.exit_code == 2
    assert "outside every unit grid" in outside.stderr

    routed = cli("route", "E0101", code)
    assert routed.exit_code == 0, routed.output
    assert "sanitation 环卫" in routed.stdout and "default department" in routed.stdout

    unknown = cli("route", "E0199", code)
    assert unknown.exit_code == 2
    assert "unknown category code 'E0199'" in unknown.stderr
    stray = cli("route", "E0101", "410105009001001")
    assert stray.exit_code == 2 and "unknown unit grid" in stray.stderr

    rules = tmp_path / "rules.json"
    street = code[:9]
    rules.write_text(
        json.dumps({"rules": [{"category": "E01", "area": street, "department": "street_office"}]})
    )
    imported = cli("import-routing", str(rules))
    assert imported.exit_code == 0, imported.output
    routed = cli("route", "E0101", code)
    assert "street_office 街道办" in routed.stdout
    assert "routing rule 1" in routed.stdout and "would be sanitation" in routed.stdout


def test_cli_imports_files_and_refuses_bad_ones(cli: Any, tmp_path: Path) -> None:
    extension = tmp_path / "local.json"
    extension.write_text(json.dumps(EXTENSION, ensure_ascii=False), encoding="utf-8")
    result = cli("import-taxonomy", "--extension", str(extension))
    assert result.exit_code == 0, result.output
    assert "imported as version" in result.stdout

    grids = tmp_path / "grids.geojson"
    district = generate_demo_district(5)
    grids.write_text(json.dumps(district.to_geojson(), ensure_ascii=False), encoding="utf-8")
    result = cli("import-grids", str(grids))
    assert result.exit_code == 0, result.output
    assert "108 unit grid 单元网格" in result.stdout and "108 grid workers 网格员" in result.stdout

    lon, lat = district.grids[40].area.centroid()  # type: ignore[union-attr]
    located = cli("locate", str(lon), str(lat))
    assert district.grids[40].code in located.stdout

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"category": "C07", "area": "*", "department": "x"}]}))
    refused = cli("import-routing", str(rules))
    assert refused.exit_code == 2
    assert "unknown department 'x'" in refused.stderr
    rules.write_text(
        json.dumps({"rules": [{"category": "C07", "area": "*", "department": "property_mgmt"}]})
    )
    assert cli("import-routing", str(rules)).exit_code == 0  # extension classes are known
    routed = cli("route", "C0701", district.grids[0].code)
    assert "property_mgmt 物业" in routed.stdout

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = cli("import-grids", str(broken))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    result = cli("import-grids", str(extension))
    assert result.exit_code == 2 and "not a district FeatureCollection" in result.stderr
    bad = tmp_path / "bad-taxonomy.json"
    bad.write_text(json.dumps({"categories": [{"code": "C0101"}]}))
    result = cli("import-taxonomy", "--extension", str(bad))
    assert result.exit_code == 2 and "taxonomy refused" in result.stderr
