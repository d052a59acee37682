"""Frozen: the activity each command's events were appended by before appends were routed
by side (one ``append_supervision`` / ``append_disposal``, workflow patch "append-by-side").

A case started before that patch replays its history with these names, and an activity an
old workflow scheduled may still be waiting in a task queue: the workers keep these names
registered as aliases of their side's append. Never add to this module: a step declared
after the patch only ever runs patched.
"""

from __future__ import annotations

from types import MappingProxyType

# command class name -> the activity that appended its events
ACTIVITY_OF_COMMAND = MappingProxyType(
    {
        "ReportCase": "record_report",
        "RequestVerification": "record_verification",
        "RecordVerification": "record_verification",
        "ReviewSelfHandling": "record_verification",
        "FileCase": "record_verification",
        "RejectCase": "record_verification",
        "MergeCase": "record_merge",
        "RecordDuplicate": "record_merge",
        "RecordClosureCheck": "record_closure_check",
        "CloseCase": "record_closure",
        "CancelCase": "record_closure",
        "UrgeCase": "record_supervision",
        "SuperviseCase": "record_supervision",
        "MarkStageWarning": "notify_overdue",
        "MarkStageOverdue": "notify_overdue",
        "MarkBacklog": "notify_overdue",
        "DispatchCase": "assign_to_department",
        "SignFor": "record_sign_for",
        "SubmitFeedback": "record_feedback",
        "RequestExtension": "record_department_request",
        "RequestReturn": "record_department_request",
        "RequestSuspension": "record_department_request",
        "ReplyToSupervision": "record_department_request",
        "DecideExtension": "record_approval",
        "DecideReturn": "record_approval",
        "DecideSuspension": "record_approval",
        "ResumeCase": "record_approval",
    }
)
# The old activity names of each side (task queue).
ACTIVITIES_OF_SIDE = MappingProxyType(
    {
        "supervision": (
            "record_report",
            "record_verification",
            "record_merge",
            "record_closure_check",
            "record_closure",
            "record_supervision",
            "notify_overdue",
        ),
        "disposal": (
            "assign_to_department",
            "record_sign_for",
            "record_feedback",
            "record_department_request",
            "record_approval",
        ),
    }
)
