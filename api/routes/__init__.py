"""One router module per user group; ``api.app`` includes them (order matters: fixed
paths such as /v1/cases/overdue before /v1/cases/{case_id})."""
