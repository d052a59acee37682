"""Passwords, token expiry and rotation, web sessions and the failed sign-in limit, on the
real PostgreSQL (store and CLI); the API's answer to an expired token."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from gridcase.cli import app as cli_app
from store.auth_models import ApiTokenRow, SignInThrottleRow, UserRow, WebSessionRow
from store.passwords import Passwords, needs_rehash
from store.sessions import SessionStore, SignInPolicy, SignInThrottle
from store.users import TokenExpired, UserError
from tests.api.conftest import People, problem

PASSWORD = "correct horse battery"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_password_rules_check_and_reset(people: People, api_engine: Engine) -> None:
    passwords = Passwords(api_engine)
    user = people.make("acceptor")
    assert passwords.check(user.id, PASSWORD) is None  # none set yet
    for bad, why in [
        ("short", "at least 10"),
        (" padded password ", "white space"),
        (f"my {user.id} pass", "user id"),
        ("tab\tinside password", "control"),
        ("x" * 257, "at most 256"),
    ]:
        with pytest.raises(UserError, match=why):
            passwords.set(user.id, bad)
    with pytest.raises(UserError, match="no user"):
        passwords.set(uid("nobody"), PASSWORD)
    passwords.set(user.id, PASSWORD)
    with api_engine.connect() as conn:
        stored = conn.execute(select(UserRow.password_hash).where(UserRow.id == user.id)).one()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert not needs_rehash(stored)
    found = passwords.check(user.id, PASSWORD)
    assert found is not None and (found.user_id, found.role) == (user.id, "acceptor")
    # The same Principal the API builds from a token (token_id aside).
    by_token = people.users.authenticate(user.token)
    assert by_token is not None and found == by_token.__class__(
        **{**vars(by_token), "token_id": ""}
    )
    assert passwords.check(user.id, PASSWORD + "x") is None
    assert passwords.check(uid("nobody"), PASSWORD) is None


def test_tokens_expire_and_rotate(people: People, api_engine: Engine) -> None:
    users = people.users
    user = people.make("dispatcher")
    issued = users.issue_token(user.id, "laptop", ttl=timedelta(days=3))
    assert issued.expires_at is not None
    assert users.authenticate(issued.secret) is not None
    with pytest.raises(UserError, match="positive"):
        users.issue_token(user.id, ttl=timedelta(0))
    with api_engine.begin() as conn:
        conn.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == issued.id)
            .values(expires_at=ApiTokenRow.created_at - timedelta(seconds=1))
        )
    with pytest.raises(TokenExpired, match=f"token {issued.id} expired"):
        users.authenticate(issued.secret)

    rotated = users.rotate_token(issued.id, ttl=timedelta(days=1))
    assert users.authenticate(rotated.secret) is not None
    infos = {t.id: t for t in users.get_user(user.id).tokens}
    assert infos[issued.id].revoked_at is not None and infos[rotated.id].name == "laptop"
    with pytest.raises(UserError, match="is revoked"):
        users.rotate_token(issued.id)
    assert users.authenticate(issued.secret) is None  # revoked beats expired

    # With a grace period the old token works a little longer, then expires.
    again = users.rotate_token(rotated.id, grace=timedelta(minutes=5))
    assert users.authenticate(rotated.secret) is not None
    assert users.authenticate(again.secret) is not None
    left = users.get_user(user.id).tokens
    old = next(t for t in left if t.id == rotated.id)
    new = next(t for t in left if t.id == again.id)
    assert old.revoked_at is None and old.expires_at < new.expires_at
    assert old.expires_at - old.created_at < timedelta(minutes=6)
    with pytest.raises(UserError, match="no token"):
        users.rotate_token("tok_nothing")


async def test_an_expired_token_is_a_clear_401(
    http: httpx.AsyncClient, people: People, api_engine: Engine
) -> None:
    user = people.make("acceptor")
    with api_engine.begin() as conn:
        conn.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == user.token_id)
            .values(expires_at=ApiTokenRow.created_at)
        )
    r = await http.get("/v1/inbox/center", params={"queue": "to_file"}, headers=user.headers)
    body = problem(r, 401, "token_expired")
    assert "expired at" in str(body["detail"]) and "token rotate" in str(body["detail"])
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert body["expired_at"]


def test_sessions_end_on_sign_out_idle_age_reset_and_deactivation(
    people: People, api_engine: Engine
) -> None:
    sessions = SessionStore(api_engine, SignInPolicy())
    user = people.make("shift_leader")
    principal = people.users.authenticate(user.token)
    assert principal is not None

    def start() -> str:
        secret, session = sessions.start(principal, "127.0.0.1")
        assert session.idle_until <= session.expires_at
        return secret

    def age(secret: str, **values: Any) -> None:
        with api_engine.begin() as conn:
            conn.execute(
                update(WebSessionRow).where(WebSessionRow.id_hash == _hash(secret)).values(**values)
            )

    secret = start()
    live = sessions.resume(secret)
    assert live is not None and live.principal.user_id == user.id and live.csrf_token
    assert sessions.resume(secret + "x") is None and sessions.resume("nonsense") is None
    with api_engine.connect() as conn:  # only the hash is stored
        assert (
            conn.execute(select(WebSessionRow).where(WebSessionRow.id_hash == secret)).first()
            is None
        )
    assert sessions.end(secret) and sessions.resume(secret) is None

    idle = start()
    age(idle, last_seen_at=WebSessionRow.last_seen_at - timedelta(minutes=31))
    assert sessions.resume(idle) is None
    old = start()
    age(old, expires_at=WebSessionRow.created_at)
    assert sessions.resume(old) is None

    reset = start()
    Passwords(api_engine).set(user.id, PASSWORD)
    assert sessions.resume(reset) is None
    gone = start()
    people.users.deactivate(user.id)
    assert sessions.resume(gone) is None


def _hash(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def test_failed_sign_ins_lock_the_user_id_and_the_address(api_engine: Engine) -> None:
    policy = SignInPolicy(max_failures=3, max_failures_per_address=5)
    throttle = SignInThrottle(api_engine, policy)
    user, address = uid("u"), f"203.0.113.{uuid.uuid4().int % 250}"
    assert throttle.locked_until(user, address) is None
    assert throttle.record_failure(user, address).remaining == 2
    assert throttle.record_failure(user, address).remaining == 1
    third = throttle.record_failure(user, address)
    assert third.remaining == 0 and third.locked_until is not None
    # A new throttle (an API restart) still sees the lock: it is in PostgreSQL.
    again = SignInThrottle(api_engine, policy)
    assert again.locked_until(user, address) == third.locked_until
    assert again.locked_until(user, "198.51.100.1") == third.locked_until
    throttle.clear_user(user)
    assert throttle.locked_until(user, "198.51.100.1") is None

    # Five failures from one address on five user ids lock the address for everyone.
    for _ in range(2):
        throttle.record_failure(uid("spray"), address)
    assert throttle.locked_until(uid("other"), address) is not None
    assert throttle.locked_until(uid("other"), "198.51.100.2") is None

    # A window that ended starts the count again.
    late = uid("u")
    throttle.record_failure(late, "198.51.100.3")
    throttle.record_failure(late, "198.51.100.3")
    with api_engine.begin() as conn:
        conn.execute(
            update(SignInThrottleRow)
            .where(SignInThrottleRow.key == late)
            .values(window_started_at=SignInThrottleRow.window_started_at - timedelta(minutes=16))
        )
    assert throttle.record_failure(late, "198.51.100.3").remaining == 2


def test_cli_passwords_tokens_unlock_and_sign_out(
    db_url: str, people: People, api_engine: Engine
) -> None:
    runner = CliRunner()

    def cli(*args: str, stdin: str | None = None) -> Any:
        env = {"DATABASE_URL": db_url, "GRIDCASE_LOG_FORMAT": "console"}
        return runner.invoke(cli_app, ["users", *args], input=stdin, env=env)

    user = people.make("dispatcher")
    done = cli("password", "set", user.id, stdin=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert Passwords(api_engine).check(user.id, PASSWORD) is not None
    short = cli("password", "set", user.id, stdin="short\n")
    assert short.exit_code == 2 and "at least 10" in short.output
    assert cli("password", "set", uid("nobody"), stdin=PASSWORD).exit_code == 2

    issued = cli("token", "issue", user.id, "--days", "2")
    assert issued.exit_code == 0 and "expires" in issued.output, issued.output
    listed = cli("token", "list", user.id)
    assert listed.exit_code == 0 and user.token_id in listed.stdout and "active" in listed.stdout
    rotated = cli("token", "rotate", user.token_id, "--grace-minutes", "10")
    assert rotated.exit_code == 0, rotated.output
    new_token = rotated.stdout.strip().splitlines()[-1]
    assert people.users.authenticate(new_token) is not None
    assert cli("token", "rotate", "tok_nothing").exit_code == 2

    throttle = SignInThrottle(api_engine, SignInPolicy(max_failures=1))
    throttle.record_failure(user.id, "192.0.2.9")
    assert throttle.locked_until(user.id, "") is not None
    assert cli("unlock", user.id).exit_code == 0
    assert throttle.locked_until(user.id, "") is None

    sessions = SessionStore(api_engine, SignInPolicy())
    principal = people.users.authenticate(new_token)
    assert principal is not None
    secret, _ = sessions.start(principal)
    ended = cli("sign-out", user.id)
    assert ended.exit_code == 0 and "1 web session" in ended.stdout
    assert sessions.resume(secret) is None
