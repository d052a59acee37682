"""NotificationDrainWorkflow: one long-running loop that empties the notification outbox.

Each iteration runs the delivery activity on the supervision task queue; the outbox itself
(in PostgreSQL) holds every notice and its retry schedule, so the workflow keeps no state
of its own and can be restarted, or started twice, without losing or doubling anything.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notify import DeliverInput, DeliverResult, NotificationActivities
    from activities.types import TaskQueues
    from workflows.notification_types import DrainInput

DRAIN_WORKFLOW_ID = "notification-drain"
# A batch stops starting POSTs after a minute (activities/notify.py); the rest is slack.
DELIVER_TIMEOUT = timedelta(minutes=3)
DELIVER_HEARTBEAT = timedelta(seconds=45)
# A failing activity means the database is unreachable: keep trying, never give up.
DELIVER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
)


@workflow.defn
class NotificationDrainWorkflow:
    @workflow.run
    async def run(self, inp: DrainInput) -> None:
        for _ in range(inp.iterations_per_run):
            result: DeliverResult = await workflow.execute_activity_method(
                NotificationActivities.deliver_notifications,
                DeliverInput(limit=inp.batch_size),
                task_queue=TaskQueues.SUPERVISION,
                start_to_close_timeout=DELIVER_TIMEOUT,
                heartbeat_timeout=DELIVER_HEARTBEAT,
                retry_policy=DELIVER_RETRY,
            )
            if result.delivered or result.failed or result.retried or result.no_subscriber:
                workflow.logger.info(
                    "notifications: %s delivered, %s retried, %s failed, %s without "
                    "subscriber, %s due",
                    result.delivered,
                    result.retried,
                    result.failed,
                    result.no_subscriber,
                    result.remaining,
                )
            # Go straight on only while deliveries succeed and more are due; otherwise
            # pause, so a receiver that is down is not hammered in a tight loop.
            if not (result.delivered and result.remaining):
                await workflow.sleep(timedelta(seconds=inp.interval_seconds))
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(inp)


async def ensure_drain_running(
    client: Client, inp: DrainInput | None = None
) -> WorkflowHandle[NotificationDrainWorkflow, None]:
    """Start the drain unless it runs already (one per namespace, fixed workflow id)."""
    return await client.start_workflow(
        NotificationDrainWorkflow.run,
        inp or DrainInput(),
        id=DRAIN_WORKFLOW_ID,
        task_queue=TaskQueues.CASES,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="delivers the notification outbox to webhooks",
    )
