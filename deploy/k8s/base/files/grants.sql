-- Table privileges of the gridcase roles. Run as gridcase_owner (the role that ran
-- `gridcase migrate`, so the owner of every table) right after every migration: the
-- migrate Job does. Idempotent. A migration that adds a table an activity or the API uses
-- must add its grant here (tests/unit/test_deploy_files.py lists the tables named here).
\set ON_ERROR_STOP on

GRANT USAGE ON SCHEMA public TO gridcase_supervision, gridcase_disposal, gridcase_api;

-- Both activity workers append to a case's stream (store/event_store.py::append): advisory
-- lock, read the stream's version and events, INSERT events (append-only: no UPDATE or
-- DELETE, the trigger refuses them anyway), upsert the `cases` projection and the
-- evaluation facts (`kpi_facts`, store/kpi_projection.py), INSERT the notices the events
-- call for (outbox). Supervision also reads `cases` to check a merge
-- target, and drains the outbox (claim with FOR UPDATE SKIP LOCKED, mark delivered/failed)
-- to the active webhook subscriptions.
GRANT SELECT, INSERT ON events TO gridcase_supervision, gridcase_disposal;
GRANT SELECT, INSERT, UPDATE ON cases TO gridcase_supervision, gridcase_disposal;
GRANT SELECT, INSERT, UPDATE ON kpi_facts TO gridcase_supervision, gridcase_disposal;
GRANT INSERT ON notifications TO gridcase_disposal;
-- SQLAlchemy inserts a notice with RETURNING notifications.id: SELECT on that column only.
GRANT SELECT (id) ON notifications TO gridcase_disposal;
GRANT SELECT, INSERT, UPDATE ON notifications TO gridcase_supervision;
GRANT SELECT ON webhook_subscriptions TO gridcase_supervision;
-- At start each activity worker logs what the working calendar covers and warns when the
-- official holiday data runs out (store/calendar.py): the imported notices, read only.
GRANT SELECT ON reference_versions, calendar_years TO gridcase_supervision, gridcase_disposal;

-- The API reads the projection, the log, reference data and users, and stamps token use
-- (store/users.py::authenticate). It never writes the event log: every change of a case
-- goes through its workflow. TO CONFIRM with the API's author when the API is final.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO gridcase_api;
GRANT UPDATE ON api_tokens TO gridcase_api;
-- The web pages' sign-in (store/sessions.py, store/passwords.py): sessions start, are
-- touched and end; failed sign-ins are counted and cleared; a password hash made with
-- older argon2 parameters is replaced at the next good sign-in.
GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessions, sign_in_throttle TO gridcase_api;
GRANT UPDATE (password_hash) ON users TO gridcase_api;

-- Administration (`gridcase reference …`, `gridcase users …`, `gridcase webhooks …`,
-- `gridcase rebuild-projections --apply`) runs as gridcase_owner, from a one-off pod.
