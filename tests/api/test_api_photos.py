"""Photos: upload (type told by the bytes, size limited), serve only to whoever may see a
case showing the photo or uploaded it, and refuse reports and steps naming unknown ones."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from api.photos import DEFAULT_MAX_BYTES, PhotoConfig, photo_config
from tests.api.conftest import People, User, new_area, problem, report_body
from tests.api.test_api_main_line import step

PNG = b"\x89PNG\r\n\x1a\n"


def image(kind: str = "PNG", size: int = 0, pixels: tuple[int, int] = (8, 8)) -> bytes:
    """A real image of random pixels (new bytes each call), padded after its end to
    ``size`` bytes: decoders stop at the image's end, so the padding only adds size."""
    out = io.BytesIO()
    Image.frombytes("RGB", pixels, os.urandom(3 * pixels[0] * pixels[1])).save(out, kind)
    data = out.getvalue()
    return data + os.urandom(max(0, size - len(data)))


def png(size: int = 0) -> bytes:
    return image("PNG", size)


def claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (CRC fixed): a
    decompression bomb as far as a decoder that trusts the header knows."""
    data = bytearray(png())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


@pytest.fixture(scope="session")
def photo_dir(api_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session app keeps photos in a directory of the test run, not in GRIDCASE_HOME."""
    root = tmp_path_factory.mktemp("photos")
    api_app.dependency_overrides[photo_config] = lambda: PhotoConfig(directory=root)
    yield root
    api_app.dependency_overrides.pop(photo_config, None)


async def upload(
    http: httpx.AsyncClient, user: User, data: bytes, content_type: str = "image/png"
) -> httpx.Response:
    files = {"file": ("photo", data, content_type)}
    return await http.post("/v1/photos", files=files, headers=user.headers)


async def uploaded(http: httpx.AsyncClient, user: User, data: bytes | None = None) -> str:
    r = await upload(http, user, data or png())
    assert r.status_code == 201, r.text
    photo: str = r.json()["photo"]
    return photo


@pytest.mark.usefixtures("photo_dir")
async def test_upload_is_content_addressed(
    http: httpx.AsyncClient, people: People, photo_dir: Path
) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    data = png(4096)
    digest = hashlib.sha256(data).hexdigest()
    r = await upload(http, worker, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["photo"] == f"sha256:{digest}" and body["size"] == len(data)
    assert body["content_type"] == "image/png" and body["uploaded_at"].endswith("+00:00")
    assert r.headers["location"] == body["url"] == f"/v1/photos/sha256:{digest}"
    stored = photo_dir / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == data
    assert not [p for p in photo_dir.iterdir() if p.name.startswith(".upload-")]

    # The same bytes again (even from someone else): the same photo, 200, one file.
    other = people.make("handler", "sanitation")
    again = await upload(http, other, data, "application/octet-stream")
    assert again.status_code == 200 and again.json()["photo"] == body["photo"]

    served = await http.get(body["url"], headers=worker.headers)
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["etag"] == f'"{digest}"'

    for kind, data in (("image/jpeg", image("JPEG")), ("image/webp", image("WEBP"))):
        r = await upload(http, worker, data, kind)
        assert r.status_code == 201 and r.json()["content_type"] == kind, r.text


@pytest.mark.usefixtures("photo_dir")
async def test_who_may_upload(http: httpx.AsyncClient, people: People) -> None:
    r = await http.post("/v1/photos", files={"file": ("p", png(), "image/png")})
    problem(r, 401, "unauthenticated")
    problem(await upload(http, people.make("admin"), png()), 403, "forbidden")
    for role, units in (("acceptor", ()), ("supervisor", (new_area().street,))):
        r = await upload(http, people.make(role, *units), png())
        assert r.status_code == 201, r.text


@pytest.mark.usefixtures("photo_dir")
async def test_wrong_types_are_415(http: httpx.AsyncClient, people: People) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    gif = image("GIF")
    found = problem(await upload(http, worker, gif, "image/gif"), 415, "unsupported_photo")
    assert found["accepted"] == ["image/jpeg", "image/png", "image/webp"]
    # Undeclared, the GIF is still told by decoding it.
    r = await upload(http, worker, gif, "application/octet-stream")
    assert "GIF" in str(problem(r, 415, "unsupported_photo")["detail"])
    # Declared as a PNG, but the bytes are text: the bytes decide.
    problem(await upload(http, worker, b"<html>not a photo</html>"), 415, "unsupported_photo")
    # A real PNG declared as something else is refused too: one of the two is wrong.
    r = await upload(http, worker, png(), "image/jpeg")
    assert "image/png" in str(problem(r, 415, "unsupported_photo")["detail"])
    problem(await upload(http, worker, png(), "text/plain"), 415, "unsupported_photo")
    problem(await upload(http, worker, b""), 415, "unsupported_photo")
    r = await http.post("/v1/photos", json={"file": "x"}, headers=worker.headers)
    problem(r, 415, "unsupported_media_type")
    r = await http.post("/v1/photos", data={"name": "x"}, files={}, headers=worker.headers)
    problem(r, 415, "unsupported_media_type")  # urlencoded: not multipart either
    r = await http.post(
        "/v1/photos", files={"other": ("p", png(), "image/png")}, headers=worker.headers
    )
    problem(r, 422, "photo_required")


@pytest.mark.usefixtures("photo_dir")
async def test_what_does_not_decode_is_422_and_nothing_is_kept(
    http: httpx.AsyncClient, people: People, photo_dir: Path
) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    # The magic of a PNG and noise: trusted by its first bytes, it would have been kept.
    noise = PNG + os.urandom(256)
    found = problem(await upload(http, worker, noise), 422, "unreadable_photo")
    assert "do not decode" in str(found["detail"])
    jpeg = image("JPEG", pixels=(64, 64))
    half = jpeg[: len(jpeg) // 2]
    problem(await upload(http, worker, half, "image/jpeg"), 422, "unreadable_photo")
    # Decompression bombs: small files whose header promises more pixels than allowed.
    big = claiming(8_000, 6_000)
    found = problem(await upload(http, worker, big), 422, "unreadable_photo")
    assert "8000×6000 pixels" in str(found["detail"]) and found["max_pixels"] == 40_000_000
    bomb = claiming(50_000, 50_000)
    assert len(bomb) < 1024
    found = problem(await upload(http, worker, bomb), 422, "unreadable_photo")
    assert "more pixels than the 40,000,000" in str(found["detail"])
    refused = {hashlib.sha256(data).hexdigest() for data in (noise, half, big, bomb)}
    kept = [p.name for p in photo_dir.rglob("*") if p.is_file()]
    assert not [name for name in kept if name in refused or name.startswith(".upload-")]


async def test_oversized_is_413(
    http: httpx.AsyncClient, people: People, api_app: FastAPI, photo_dir: Path
) -> None:
    worker = people.make("grid_worker", new_area().grid(0, 1))
    # The default: 5 MiB; one byte more is refused before the body is read.
    at_limit = png(DEFAULT_MAX_BYTES)
    assert (await upload(http, worker, at_limit)).status_code == 201
    found = problem(await upload(http, worker, at_limit + b"x"), 413, "photo_too_large")
    assert found["limit"] == DEFAULT_MAX_BYTES
    # Announced far past the limit (Content-Length): refused before the form is parsed.
    problem(await upload(http, worker, at_limit + os.urandom(64 * 1024)), 413, "photo_too_large")
    # Configured lower: a body whose announced size passes is still counted as it is read.
    api_app.dependency_overrides[photo_config] = lambda: PhotoConfig(photo_dir, max_bytes=1000)
    try:
        problem(await upload(http, worker, png(1001)), 413, "photo_too_large")
        assert (await upload(http, worker, png(500))).status_code == 201
    finally:
        api_app.dependency_overrides[photo_config] = lambda: PhotoConfig(directory=photo_dir)
    assert not [p for p in photo_dir.iterdir() if p.name.startswith(".upload-")]


@pytest.mark.usefixtures("photo_dir")
async def test_served_only_within_jurisdiction(http: httpx.AsyncClient, people: People) -> None:
    area, other_area = new_area(), new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    neighbour = people.make("grid_worker", area.grid(1, 1))
    leader = people.make("shift_leader")
    dispatcher = people.make("dispatcher")
    handler = people.make("handler", "sanitation")
    roads = people.make("handler", "municipal_roads")
    supervisor = people.make("supervisor", area.street)
    stranger = people.make("supervisor", other_area.street)
    admin = people.make("admin")

    before = await uploaded(http, worker)
    # Uploaded, not yet in any case: only its uploader sees it.
    for user in (neighbour, leader, admin):
        problem(await http.get(f"/v1/photos/{before}", headers=user.headers), 404, "not_found")
    assert (await http.get(f"/v1/photos/{before}", headers=worker.headers)).status_code == 200

    case_id = f"ph-{uuid.uuid4().hex[:10]}"
    body = report_body(area.grid(0, 1), report_id=case_id, photos=[before])
    r = await http.post("/v1/reports", json=body, headers=worker.headers)
    assert r.status_code == 201, r.text
    assert r.json()["photos"] == [before]

    async def status(user: User, photo: str) -> int:
        return (await http.get(f"/v1/photos/{photo}", headers=user.headers)).status_code

    # Now the case shows it: whoever may see the case sees the photo, nobody else.
    assert [await status(u, before) for u in (leader, supervisor, admin)] == [200, 200, 200]
    for outsider in (neighbour, stranger, handler):
        found = problem(
            await http.get(f"/v1/photos/{before}", headers=outsider.headers), 404, "not_found"
        )
        assert case_id not in str(found)
    await step(http, leader, case_id, "file")
    await step(http, dispatcher, case_id, "dispatch", {"department": "sanitation"})
    assert await status(handler, before) == 200  # the case is with his department now
    assert await status(roads, before) == 404

    # The handler's photo of the result, in his feedback: the worker sees it at check.
    await step(http, handler, case_id, "sign_for")
    after = await uploaded(http, handler)
    assert await status(worker, after) == 404
    await step(http, handler, case_id, "feedback", {"result": "cleared", "photos": [after]})
    assert await status(worker, after) == 200 and await status(roads, after) == 404
    # He may name a photo he can see in his own step, though someone else uploaded it.
    fed = await step(http, worker, case_id, "check", {"passed": True, "photos": [after]})
    assert fed["stage"] == "close"
    problem(
        await http.get("/v1/photos/sha256:nothex", headers=worker.headers), 422, "validation_error"
    )
    unknown = "sha256:" + "0" * 64
    problem(await http.get(f"/v1/photos/{unknown}", headers=admin.headers), 404, "not_found")


@pytest.mark.usefixtures("photo_dir")
async def test_unknown_photos_are_refused(http: httpx.AsyncClient, people: People) -> None:
    area = new_area()
    worker = people.make("grid_worker", area.grid(0, 1))
    neighbour = people.make("grid_worker", area.grid(1, 1))
    leader = people.make("shift_leader")
    unknown = "sha256:" + hashlib.sha256(b"never uploaded").hexdigest()

    def report(**fields: object) -> dict[str, object]:
        return report_body(area.grid(0, 1), report_id=f"up-{uuid.uuid4().hex[:10]}", **fields)

    async def refused(body: dict[str, object], user: User = worker) -> dict[str, object]:
        r = await http.post("/v1/reports", json=body, headers=user.headers)
        return problem(r, 422, "unknown_photo")

    assert (await refused(report(photos=[unknown])))["photos"] == [unknown]
    await refused(report(photos=["sha256:abc"]))  # not even a photo id
    handled = {"result": "swept", "photos": [unknown]}
    await refused(report(self_handled=handled))
    # Someone else's photo that no case of mine shows: refused in the same words.
    theirs = await uploaded(http, neighbour)
    found = await refused(report(photos=[theirs]))
    assert found["detail"] == f"no photo {theirs!r}; upload it to /v1/photos first"

    mine = await uploaded(http, worker)
    r = await http.post("/v1/reports", json=report(photos=[mine, mine]), headers=worker.headers)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    # In a step: refused before the step reaches the case.
    r = await http.post(
        f"/v1/cases/{case_id}/verification",
        json={"confirmed": True, "photos": [unknown]},
        headers=worker.headers,
    )
    problem(r, 422, "unknown_photo")
    r = await http.get(f"/v1/cases/{case_id}", headers=leader.headers)
    assert [e["type"] for e in r.json()["timeline"]] == ["CaseReported"]
