"""`gridcase reference …`: load and inspect reference data (基础数据) in the database.

The taxonomy (案件分类), the district's grids and grid workers (网格, 网格员) and routing
overrides (派遣规则) are imported from files; each import is checked, is a no-op when the
same data is already loaded, and otherwise replaces that kind of data in one transaction.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from application.config import ConfigError, Settings
from domain.demo_district import generate_demo_district
from domain.errors import DomainError
from domain.geo import PointOutsideGrids
from domain.org import District, Level
from domain.routing import InvalidRouting, Route, Router
from domain.taxonomy import InvalidTaxonomy, default_taxonomy
from domain.taxonomy import load_taxonomy as build_taxonomy
from gridcase.cli_common import database_down
from gridcase.render import when
from store.db import make_engine
from store.reference import (
    ImportResult,
    NoDistrictLoaded,
    ReferenceDataError,
    import_district,
    import_routing,
    import_taxonomy,
    load_district,
    load_router,
    reference_status,
)

reference_app = typer.Typer(
    help="Reference data (基础数据): the category taxonomy (案件分类), the district's grids and "
    "grid workers (网格/网格员), routing rules (派遣规则) and the working calendar's holiday "
    "notices (`gridcase reference calendar`).\n\n"
    "Imports are idempotent: the same file twice changes nothing; a changed file replaces "
    "what was loaded, in one transaction. Start with `gridcase reference seed-demo` for the "
    "synthetic demo district.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

KIND_LABELS = {
    "taxonomy": "taxonomy 案件分类",
    "district": "district 网格",
    "routing": "routing 派遣规则",
    "calendar": "calendar 工作日历",
}
TABLE_LABELS = {
    "departments": "departments 部门",
    "major_classes": "major classes 大类",
    "categories": "categories 小类",
    "org_units": "org units 组织单元",
    "responsibility_grids": "responsibility grids 责任网格",
    "grid_workers": "grid workers 网格员",
    "routing_rules": "routing rules 派遣规则",
    "calendar_years": "imported notice years 节假日年度",
}
LEVEL_LABELS = {
    Level.DISTRICT: "district 区",
    Level.STREET: "street 街道",
    Level.COMMUNITY: "community 社区",
    Level.GRID: "unit grid 单元网格",
}
SHIPPED = "shipped taxonomy (domain/data/taxonomy.json)"

JsonFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
]


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def database() -> Iterator[Engine]:
    """An engine on DATABASE_URL (or the embedded server); driver errors become one line."""
    try:
        url = Settings.from_env().db_url
    except ConfigError as exc:
        fail(str(exc))
    engine = make_engine(url, pool_size=2)
    try:
        yield engine
    except OperationalError as exc:
        fail(database_down(exc), code=1)
    except ProgrammingError as exc:
        fail(f"the database refused the query ({exc.orig}); run `gridcase migrate` first?")
    except (ReferenceDataError, DomainError, InvalidRouting, InvalidTaxonomy) as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        fail(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read it ({exc})")


def run_import(kind: str, work: Callable[[Callable[[int, int], None]], ImportResult]) -> None:
    """Run one import with a progress bar, then say what changed."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(f"importing {KIND_LABELS[kind]}", total=None)
        result = work(lambda done, total: progress.update(task, completed=done, total=total))
    labels = {**{level.value: label for level, label in LEVEL_LABELS.items()}, **TABLE_LABELS}
    if any(level.value in result.counts for level in Level):
        del labels["org_units"]  # the per-level counts say more
    counts = ", ".join(
        f"{result.counts[name]} {label}" for name, label in labels.items() if name in result.counts
    )
    if result.changed:
        console.print(f"{KIND_LABELS[kind]}: imported as version {result.version} ({counts})")
    else:
        console.print(
            f"{KIND_LABELS[kind]}: unchanged, the same data is loaded as version "
            f"{result.version} ({counts})"
        )


# -- imports -------------------------------------------------------------------------------
@reference_app.command("import-taxonomy")
def import_taxonomy_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Taxonomy JSON (default: the shipped taxonomy)",
            show_default=False,
        ),
    ] = None,
    extension: Annotated[
        list[Path] | None,
        typer.Option(
            "--extension",
            exists=True,
            dir_okay=False,
            help="Local extension classes (扩展类) JSON, applied in order (repeatable); "
            "everything it adds is marked as a local extension",
        ),
    ] = None,
) -> None:
    """Import the category taxonomy (案件分类): departments, major and minor classes."""
    base = (
        read_json(file)
        if file is not None
        else json.loads(
            (resources.files("domain") / "data" / "taxonomy.json").read_text(encoding="utf-8")
        )
    )
    extensions = [read_json(path) for path in extension or ()]
    try:
        taxonomy = build_taxonomy(base, *extensions)
    except InvalidTaxonomy as exc:
        fail(f"taxonomy refused: {exc}")
    source = " + ".join([str(file) if file else SHIPPED, *(str(p) for p in extension or ())])
    with database() as engine:
        run_import(
            "taxonomy", lambda p: import_taxonomy(engine, taxonomy, source=source, progress=p)
        )


@reference_app.command("import-grids")
def import_grids_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            show_default=False,
            help="GeoJSON FeatureCollection of unit grids, as written by District.to_geojson()",
        ),
    ],
) -> None:
    """Import the district: streets, communities, unit grids (单元网格) and grid workers."""
    try:
        district = District.from_geojson(read_json(file))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        fail(f"{file}: not a district FeatureCollection ({type(exc).__name__}: {exc})")
    with database() as engine:
        run_import(
            "district", lambda p: import_district(engine, district, source=str(file), progress=p)
        )


@reference_app.command("import-routing")
def import_routing_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            show_default=False,
            help='Routing JSON: {"rules": [{"category", "area", "department", "note"?}]}',
        ),
    ],
) -> None:
    """Import routing overrides (派遣规则), checked against the loaded taxonomy.

    A rule sends `category` (a code like E0101, a major class like E01, or *) in `area` (a
    district, street, community or grid code, or *) to `department`. The most specific
    matching rule wins: longest area first, then the most specific category; with no
    matching rule a case goes to its category's default department.
    """
    document = read_json(file)
    with database() as engine:
        # Parse against the taxonomy in the database, so extension classes are known.
        router = Router.from_dict(document, load_router(engine).taxonomy)
        run_import(
            "routing", lambda p: import_routing(engine, router, source=str(file), progress=p)
        )


@reference_app.command("seed-demo")
def seed_demo(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same district")] = 0,
) -> None:
    """Load the SYNTHETIC demo district (金水区 410105, 108 unit grids), the shipped taxonomy
    and default routing (no overrides: every category goes to its default department)."""
    taxonomy = default_taxonomy()
    district = generate_demo_district(seed, taxonomy=taxonomy)
    with database() as engine:
        # Routing first, district next, taxonomy last: each step then fits what is stored,
        # whatever was loaded before (an extended taxonomy, rules naming its departments).
        run_import(
            "routing",
            lambda p: import_routing(engine, Router(taxonomy), source="seed-demo", progress=p),
        )
        run_import(
            "district",
            lambda p: import_district(
                engine, district, source=f"seed-demo --seed {seed} (synthetic)", progress=p
            ),
        )
        run_import(
            "taxonomy", lambda p: import_taxonomy(engine, taxonomy, source=SHIPPED, progress=p)
        )


# -- reading -------------------------------------------------------------------------------
@reference_app.command()
def show() -> None:
    """What is loaded: row counts and the newest import of each kind."""
    with database() as engine:
        status = reference_status(engine)
    counts = Table("table 表", "rows 行数", title="reference data 基础数据")
    for name, n in status.rows.items():
        counts.add_row(TABLE_LABELS.get(name, name), str(n))
    console.print(counts)
    versions = Table(
        "kind 类别", "version 版本", "imported at 导入时间", "source 来源", "checksum 校验和"
    )
    for kind, label in KIND_LABELS.items():
        v = status.versions.get(kind)
        if v is None:
            note = {
                "taxonomy": "shipped taxonomy in use",
                "calendar": "base notices in use (gridcase reference calendar show)",
            }.get(kind, "")
            versions.add_row(label, "never imported 未导入", "", note, "")
        else:
            versions.add_row(label, str(v.version), when(v.imported_at), v.source, v.checksum[:12])
    console.print(versions)


@reference_app.command()
def locate(
    lon: Annotated[float, typer.Argument(help="WGS84 longitude (经度)")],
    lat: Annotated[float, typer.Argument(help="WGS84 latitude (纬度)")],
) -> None:
    """Which unit grid (单元网格) a point lies in, with its community, street and grid worker."""
    with database() as engine:
        district = load_district(engine)
    try:
        code = district.locate(lon, lat)
    except PointOutsideGrids as exc:
        fail(f"{exc.message} of district {district.code} {district.name_zh}")
    except ValueError as exc:
        fail(str(exc))
    grid = district.grid(code)
    street = district.street_of(code)
    community = district.community_of(code)
    console.print(f"{LEVEL_LABELS[Level.GRID]}: {code} {grid.name}", highlight=False)
    console.print(
        f"{LEVEL_LABELS[Level.COMMUNITY]}: {community.code} {community.name_zh}", highlight=False
    )
    console.print(f"{LEVEL_LABELS[Level.STREET]}: {street.code} {street.name_zh}", highlight=False)
    worker = district.worker_for_grid(code)
    if worker is not None:
        console.print(f"grid worker 网格员: {worker.id} {worker.name}", highlight=False)
    if district.synthetic:
        console.print("(synthetic demo data 演示数据)")


@reference_app.command()
def route(
    category: Annotated[str, typer.Argument(help="Category code (案件分类), e.g. E0101")],
    grid: Annotated[str, typer.Argument(help="15-digit unit grid code (单元网格编码)")],
) -> None:
    """Which department (处置部门) a case of CATEGORY in GRID goes to, and why."""
    with database() as engine:
        router = load_router(engine)
        try:
            district: District | None = load_district(engine)
        except NoDistrictLoaded:
            district = None
    try:
        result = router.route(category, grid)
        if district is not None:
            district.grid(grid)  # a grid the loaded district does not have is a typo
    except DomainError as exc:
        fail(exc.message)
    explain(router, category, grid, result)


def explain(router: Router, category: str, grid: str, result: Route) -> None:
    taxonomy = router.taxonomy
    c = taxonomy.category(category)
    d = taxonomy.department(result.department)
    console.print(f"{c.code} {c.name_zh} {c.name_en} in {grid}", highlight=False)
    console.print(f"department 处置部门: {d.code} {d.name_zh} {d.name_en}", highlight=False)
    if result.rule is None:
        console.print(
            f"why 依据: default department of {c.code} in the taxonomy (默认处置部门); "
            "no routing rule matches",
            highlight=False,
        )
        return
    number = router.rules.index(result.rule) + 1
    note = f" — {result.rule.note}" if result.rule.note else ""
    console.print(
        f"why 依据: routing rule {number} (派遣规则): {result.rule.describe()}{note}",
        highlight=False,
    )
    others = router.matching(category, grid)[1:]
    for rule in others:
        console.print(
            f"  also matches, less specific: rule {router.rules.index(rule) + 1}: "
            f"{rule.describe()}",
            highlight=False,
        )
    if c.default_department != result.department:
        console.print(f"  (default department 默认处置部门 would be {c.default_department})")
