"""The vendored front-end files are exactly the manifest's (offline: the registry side is
``scripts/fetch-static --check``), each package keeps its licence, nothing else lies in
the vendor folder, and the templates load nothing from outside the app."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

from web import STATIC_DIR, TEMPLATES_DIR, VENDOR_MANIFEST

ROOT = Path(__file__).resolve().parents[2]
VENDOR = STATIC_DIR / "vendor"


def manifest() -> list[dict[str, object]]:
    packages: list[dict[str, object]] = json.loads(VENDOR_MANIFEST.read_text())["packages"]
    return packages


def test_every_vendored_file_matches_its_pinned_sha256() -> None:
    listed: set[Path] = set()
    for package in manifest():
        assert re.fullmatch(r"\d+\.\d+\.\d+", str(package["version"])), package["name"]
        assert str(package["integrity"]).startswith("sha512-")
        files = package["files"]
        assert isinstance(files, list)
        for entry in files:
            path = VENDOR / str(package["dir"]) / entry["to"]
            assert path.is_file(), f"{path} is in the manifest but missing"
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == entry["sha256"], f"{path} differs from {package['name']}"
            listed.add(path)
        assert any("LICENSE" in e["to"] for e in files), f"{package['name']} without licence"
    on_disk = {p for p in VENDOR.rglob("*") if p.is_file()}
    assert on_disk == listed, f"not in web/vendor.json: {sorted(on_disk - listed)}"


def test_the_manifest_names_the_libraries_the_pages_use() -> None:
    names = {p["name"] for p in manifest()}
    assert {"htmx.org", "leaflet", "echarts", "axe-core", "swagger-ui-dist"} <= names


def test_templates_and_our_static_files_load_nothing_from_outside() -> None:
    ours = [*TEMPLATES_DIR.rglob("*.html"), *STATIC_DIR.glob("*/*.css"), *STATIC_DIR.glob("*/*.js")]
    for path in ours:
        if "vendor" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        assert not re.search(r"url\((['\"])?(https?:)?//", text), path


def test_an_installed_package_ships_templates_and_static_files() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["web"]
    assert {"vendor.json", "templates/**/*.html", "static/**/*"} <= set(data)
