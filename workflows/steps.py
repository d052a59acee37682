"""Human steps of a case: the update name each command travels under."""

from domain import commands as c

HUMAN_STEPS: dict[str, type[c.Command]] = {
    "file": c.FileCase,
    "reject": c.RejectCase,
    "dispatch": c.DispatchCase,
    "sign_for": c.SignFor,
    "feedback": c.SubmitFeedback,
    "check": c.RecordClosureCheck,
    "close": c.CloseCase,
    "request_verification": c.RequestVerification,
    "record_verification": c.RecordVerification,
    "review_self_handling": c.ReviewSelfHandling,
    "cancel": c.CancelCase,
    "merge": c.MergeCase,
    "request_extension": c.RequestExtension,
    "decide_extension": c.DecideExtension,
    "request_return": c.RequestReturn,
    "decide_return": c.DecideReturn,
    "request_suspension": c.RequestSuspension,
    "decide_suspension": c.DecideSuspension,
    "resume": c.ResumeCase,
    "urge": c.UrgeCase,
    "supervise": c.SuperviseCase,
    "reply_supervision": c.ReplyToSupervision,
}

STEP_OF: dict[type[c.Command], str] = {cls: name for name, cls in HUMAN_STEPS.items()}

# The signal a merged duplicate sends to the case it was merged into.
DUPLICATE_SIGNAL = "record_duplicate"
