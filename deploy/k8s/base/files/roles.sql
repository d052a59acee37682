-- gridcase database roles and database: run ONCE per PostgreSQL cluster by an administrator
-- (a role with CREATEROLE and CREATEDB), and again to rotate passwords. Idempotent.
--
--   psql "postgresql://ADMIN@PRIMARY:5432/postgres" \
--     -v owner_password=… -v supervision_password=… -v disposal_password=… -v api_password=… \
--     -f roles.sql
--
-- gridcase_owner        owns the schema; runs `gridcase migrate` (the migrate Job), which also
--                       grants the three roles below what store/access.py lists (grants.sql)
-- gridcase_supervision  the supervision worker (gridcase-supervision task queue): appends
--                       only supervision events (row-level security on events)
-- gridcase_disposal     the disposal worker (gridcase-disposal task queue): appends only
--                       disposal events
-- gridcase_api          the HTTP API: reads; tokens, sessions, sign-in throttle, photos
-- The cases worker (gridcase-cases, workflow tasks only) gets no database role at all.
--
-- Other names: add -v supervision_role=… -v disposal_role=… -v api_role=… (and
-- -v owner_role=…), and give the migrate Job the same GRIDCASE_DB_SUPERVISION_ROLE,
-- GRIDCASE_DB_DISPOSAL_ROLE, GRIDCASE_DB_API_ROLE. The two sides' roles must differ.
\set ON_ERROR_STOP on
\if :{?owner_role} \else \set owner_role gridcase_owner \endif
\if :{?supervision_role} \else \set supervision_role gridcase_supervision \endif
\if :{?disposal_role} \else \set disposal_role gridcase_disposal \endif
\if :{?api_role} \else \set api_role gridcase_api \endif

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY[:'owner_role', :'supervision_role', :'disposal_role', :'api_role']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

ALTER ROLE :"owner_role" PASSWORD :'owner_password';
ALTER ROLE :"supervision_role" PASSWORD :'supervision_password';
ALTER ROLE :"disposal_role" PASSWORD :'disposal_password';
ALTER ROLE :"api_role" PASSWORD :'api_password';

-- Connection budgets. A supervision or disposal worker pod opens at most
-- pool_size 16 + max_overflow 10 = 26 connections (workers/run.py, store/db.py), an API pod
-- 10 + 10 = 20. Keep LIMIT >= maxReplicas (HPA) x per-pod maximum, and the sum of all
-- limits below the server's max_connections (minus the replica's and admin's share).
ALTER ROLE :"owner_role" CONNECTION LIMIT 5;
ALTER ROLE :"supervision_role" CONNECTION LIMIT 110;  -- 4 pods x 26 + slack
ALTER ROLE :"disposal_role" CONNECTION LIMIT 110;     -- 4 pods x 26 + slack
ALTER ROLE :"api_role" CONNECTION LIMIT 130;          -- 6 pods x 20 + slack

SELECT format('CREATE DATABASE gridcase OWNER %I', :'owner_role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gridcase')
\gexec

REVOKE ALL ON DATABASE gridcase FROM PUBLIC;
GRANT CONNECT ON DATABASE gridcase
   TO :"owner_role", :"supervision_role", :"disposal_role", :"api_role";
