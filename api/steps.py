"""The body of each human step (``workflows.steps.HUMAN_STEPS``) and how it becomes the
domain command, which the application service takes (``application.cases.CaseService.act``)
and gives the caller as its actor.

Bodies forbid unknown fields: the actor is always the authenticated caller, so a body
that tries to name one (or misspells a field) is refused instead of silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain import commands as c
from domain.roles import Actor
from domain.stages import SupervisionLevel
from workflows.steps import HUMAN_STEPS

Photos = list[str]


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def command(self, actor: Actor) -> c.Command:
        raise NotImplementedError


class NoteBody(StepBody):
    note: str = ""


class ReasonBody(StepBody):
    reason: str = Field(min_length=1)


class DecisionBody(StepBody):
    approve: bool
    note: str = Field("", description="Required when denying")


class FileBody(NoteBody):
    """立案, under a filing condition of the category (default: its first)."""

    condition: str = ""

    def command(self, actor: Actor) -> c.Command:
        return c.FileCase(actor=actor, note=self.note, condition=self.condition)


class RejectBody(ReasonBody):
    def command(self, actor: Actor) -> c.Command:
        return c.RejectCase(actor=actor, reason=self.reason)


class CancelBody(ReasonBody):
    def command(self, actor: Actor) -> c.Command:
        return c.CancelCase(actor=actor, reason=self.reason)


class DispatchBody(NoteBody):
    """派遣; without a department, the one routing suggests for the category and grid
    (refused when routing suggests none). Routing's suggestion is recorded either way."""

    department: str = ""

    def command(self, actor: Actor) -> c.Command:
        return c.DispatchCase(actor=actor, department=self.department, note=self.note)


class SignForBody(StepBody):
    def command(self, actor: Actor) -> c.Command:
        return c.SignFor(actor=actor)


class FeedbackBody(StepBody):
    result: str = Field(min_length=1)
    photos: Photos = []

    def command(self, actor: Actor) -> c.Command:
        return c.SubmitFeedback(actor=actor, result=self.result, photos=tuple(self.photos))


class CheckBody(StepBody):
    """核查: ``passed`` false sends the case back to the department (返工; note required)."""

    passed: bool
    note: str = ""
    photos: Photos = []

    def command(self, actor: Actor) -> c.Command:
        return c.RecordClosureCheck(
            actor=actor, passed=self.passed, note=self.note, photos=tuple(self.photos)
        )


class CloseBody(NoteBody):
    def command(self, actor: Actor) -> c.Command:
        return c.CloseCase(actor=actor, note=self.note)


class RequestVerificationBody(StepBody):
    assignee: str = Field(min_length=1, description="The grid worker's user id")

    def command(self, actor: Actor) -> c.Command:
        return c.RequestVerification(actor=actor, assignee=self.assignee)


class VerificationBody(StepBody):
    """核实 on site: confirmed, or refuted with a note."""

    confirmed: bool
    note: str = ""
    photos: Photos = []

    def command(self, actor: Actor) -> c.Command:
        return c.RecordVerification(
            actor=actor, confirmed=self.confirmed, note=self.note, photos=tuple(self.photos)
        )


class ReviewSelfHandlingBody(DecisionBody):
    def command(self, actor: Actor) -> c.Command:
        return c.ReviewSelfHandling(actor=actor, approve=self.approve, note=self.note)


class MergeBody(NoteBody):
    into: str = Field(min_length=1, description="The open case this duplicate merges into")

    def command(self, actor: Actor) -> c.Command:
        return c.MergeCase(actor=actor, into=self.into, note=self.note)


class RequestExtensionBody(ReasonBody):
    amount: str = Field(min_length=1, examples=["2 working_days", "4 working_hours"])

    def command(self, actor: Actor) -> c.Command:
        return c.RequestExtension(actor=actor, reason=self.reason, amount=self.amount)


class DecideExtensionBody(DecisionBody):
    def command(self, actor: Actor) -> c.Command:
        return c.DecideExtension(actor=actor, approve=self.approve, note=self.note)


class RequestReturnBody(ReasonBody):
    def command(self, actor: Actor) -> c.Command:
        return c.RequestReturn(actor=actor, reason=self.reason)


class DecideReturnBody(DecisionBody):
    def command(self, actor: Actor) -> c.Command:
        return c.DecideReturn(actor=actor, approve=self.approve, note=self.note)


class RequestSuspensionBody(ReasonBody):
    def command(self, actor: Actor) -> c.Command:
        return c.RequestSuspension(actor=actor, reason=self.reason)


class DecideSuspensionBody(DecisionBody):
    def command(self, actor: Actor) -> c.Command:
        return c.DecideSuspension(actor=actor, approve=self.approve, note=self.note)


class ResumeBody(NoteBody):
    def command(self, actor: Actor) -> c.Command:
        return c.ResumeCase(actor=actor, note=self.note)


class UrgeBody(StepBody):
    message: str = Field(min_length=1)

    def command(self, actor: Actor) -> c.Command:
        return c.UrgeCase(actor=actor, message=self.message)


class SuperviseBody(StepBody):
    level: SupervisionLevel = SupervisionLevel.ORDINARY
    message: str = Field(min_length=1)

    def command(self, actor: Actor) -> c.Command:
        return c.SuperviseCase(actor=actor, level=self.level, message=self.message)


class ReplyBody(StepBody):
    reply: str = Field(min_length=1)

    def command(self, actor: Actor) -> c.Command:
        return c.ReplyToSupervision(actor=actor, reply=self.reply)


STEP_BODIES: dict[str, type[StepBody]] = {
    "file": FileBody,
    "reject": RejectBody,
    "dispatch": DispatchBody,
    "sign_for": SignForBody,
    "feedback": FeedbackBody,
    "check": CheckBody,
    "close": CloseBody,
    "request_verification": RequestVerificationBody,
    "record_verification": VerificationBody,
    "review_self_handling": ReviewSelfHandlingBody,
    "cancel": CancelBody,
    "merge": MergeBody,
    "request_extension": RequestExtensionBody,
    "decide_extension": DecideExtensionBody,
    "request_return": RequestReturnBody,
    "decide_return": DecideReturnBody,
    "request_suspension": RequestSuspensionBody,
    "decide_suspension": DecideSuspensionBody,
    "resume": ResumeBody,
    "urge": UrgeBody,
    "supervise": SuperviseBody,
    "reply_supervision": ReplyBody,
}

if set(STEP_BODIES) != set(HUMAN_STEPS):  # a new step in the workflow needs a body here
    missing = sorted(set(HUMAN_STEPS) ^ set(STEP_BODIES))
    raise ImportError(f"api.steps is out of step with workflows.steps: {missing}")


def body_is_optional(model: type[StepBody]) -> bool:
    return not any(f.is_required() for f in model.model_fields.values())
