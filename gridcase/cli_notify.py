"""`gridcase notifications …` and `gridcase webhooks …`: the outbox and its receivers."""

from __future__ import annotations

from typing import Annotated

import typer

from application.read_models import notifications as notices
from gridcase.cli_common import ReadAsOption, console, engine, fail, principal, refusals
from gridcase.render import when
from store.outbox import InvalidSubscription, Outbox, SubscriptionExists, SubscriptionNotFound

notifications_app = typer.Typer(
    help="Notices left for supervision (e.g. overdue stages) and their webhook delivery.\n\n"
    "Without a subcommand: list them with delivery status, attempts and last error.",
    invoke_without_command=True,
    rich_markup_mode="markdown",
)
webhooks_app = typer.Typer(
    help="Webhooks that receive notices (signed JSON POSTs, retried until acknowledged).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def outbox() -> Outbox:
    return Outbox(engine())


@notifications_app.callback()
def notifications(
    ctx: typer.Context,
    case_id: Annotated[str | None, typer.Option("--case", help="Only this case's notices")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only notices given up or without subscriber")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="With --failed: at most this many")] = 100,
    as_: ReadAsOption = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    who = principal(as_)
    with refusals():
        rows = notices(
            engine(), who, case_id=case_id, undelivered=failed, limit=limit if failed else None
        )
    for n in rows:
        state = f"{n['status']}, {n['attempts']} attempt{'s' if n['attempts'] != 1 else ''}"
        if n["status"] == "pending" and n["attempts"]:
            state += f", next {when(n['next_attempt_at'])}"
        console.print(
            f"#{n['id']} {when(n['created_at'])} [{n['kind']}] → {n['audience']} "
            f"({state}) {n['message']}",
            markup=False,
        )
        if n["last_error"] and n["status"] != "delivered":
            console.print(f"    last error: {n['last_error']}", markup=False)
    if not rows:
        console.print("No failed notices." if failed else "No notices.")


@notifications_app.command("retry")
def notifications_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Notification ids (see --failed)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every failed notice")] = False,
) -> None:
    """Send failed (or subscriber-less) notices again, with a fresh attempt budget."""
    if all_ and ids:
        fail("give notification ids or --all, not both")
    if not all_ and not ids:
        fail(
            "give the ids of the notices to retry (see `gridcase notifications --failed`), or --all"
        )
    moved = outbox().retry_failed(None if all_ else ids)
    console.print(f"{len(moved)} notice(s) back to pending: {', '.join(map(str, moved)) or '-'}")
    skipped = sorted(set(ids or ()) - set(moved))
    if skipped:
        console.print(f"not failed, or no such notice: {', '.join(map(str, skipped))}")


@webhooks_app.command("add")
def webhooks_add(
    name: Annotated[str, typer.Argument(help="Unique name of the receiver")],
    url: Annotated[str, typer.Argument(help="http(s) URL that takes the POSTs")],
    audience: Annotated[
        list[str],
        typer.Option(
            help="Audience to receive (repeatable): supervision, department:sanitation, "
            "or department:* for all departments"
        ),
    ],
    secret: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            envvar="GRIDCASE_WEBHOOK_SECRET",
            help="Signing secret (asked for when not given; or GRIDCASE_WEBHOOK_SECRET)",
        ),
    ],
) -> None:
    """Add a webhook: notices of its audiences are POSTed to it as signed JSON.

    `X-Gridcase-Signature` is `sha256=` + hex HMAC-SHA256 of `<X-Gridcase-Timestamp>.<body>`
    with the secret. Delivery is at least once: dedupe on `X-Gridcase-Delivery`."""
    try:
        sub = outbox().add_subscription(name, url, secret, audience)
    except (InvalidSubscription, SubscriptionExists) as exc:
        fail(str(exc))
        raise
    console.print(f"webhook {sub.name} → {sub.url} for {', '.join(sub.audiences)}", markup=False)


@webhooks_app.command("list")
def webhooks_list() -> None:
    """List webhooks, active and removed."""
    subs = outbox().list_subscriptions()
    for sub in subs:
        state = "active" if sub.active else "removed"
        console.print(
            f"{sub.name} ({state}) {sub.url} audiences {', '.join(sub.audiences)} "
            f"since {when(sub.created_at)}",
            markup=False,
        )
    if not subs:
        console.print("No webhooks. Add one with `gridcase webhooks add`.", markup=False)


@webhooks_app.command("remove")
def webhooks_remove(name: Annotated[str, typer.Argument(help="Webhook name")]) -> None:
    """Stop sending to a webhook (kept, inactive, for the record)."""
    try:
        outbox().deactivate(name)
    except SubscriptionNotFound as exc:
        fail(str(exc))
    console.print(f"webhook {name} removed")


@notifications_app.command("start-drain")
def start_drain() -> None:
    """Start the workflow that delivers notices to webhooks (a no-op when it runs).

    `gridcase up` does this itself; deployments run it once after Temporal is set up.
    """
    import asyncio

    from gridcase.cli_common import settings
    from gridcase.stack import start_notification_drain

    with refusals():
        asyncio.run(start_notification_drain(settings()))
    console.print("notification drain is running (workflow id notification-drain)")
