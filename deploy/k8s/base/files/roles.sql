-- gridcase database roles and database: run ONCE per PostgreSQL cluster by an administrator
-- (a role with CREATEROLE and CREATEDB), and again to rotate passwords. Idempotent.
--
--   psql "postgresql://ADMIN@PRIMARY:5432/postgres" \
--     -v owner_password=… -v supervision_password=… -v disposal_password=… -v api_password=… \
--     -f roles.sql
--
-- gridcase_owner        owns the schema; runs `gridcase migrate` and grants.sql (migrate Job)
-- gridcase_supervision  the supervision worker (gridcase-supervision task queue)
-- gridcase_disposal     the disposal worker (gridcase-disposal task queue)
-- gridcase_api          the HTTP API (reads; token bookkeeping) -- grants to confirm with the API
-- The cases worker (gridcase-cases, workflow tasks only) gets no database role at all.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['gridcase_owner', 'gridcase_supervision', 'gridcase_disposal',
                    'gridcase_api']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

ALTER ROLE gridcase_owner PASSWORD :'owner_password';
ALTER ROLE gridcase_supervision PASSWORD :'supervision_password';
ALTER ROLE gridcase_disposal PASSWORD :'disposal_password';
ALTER ROLE gridcase_api PASSWORD :'api_password';

-- Connection budgets. A supervision or disposal worker pod opens at most
-- pool_size 16 + max_overflow 10 = 26 connections (workers/run.py, store/db.py), an API pod
-- 10 + 10 = 20. Keep LIMIT >= maxReplicas (HPA) x per-pod maximum, and the sum of all
-- limits below the server's max_connections (minus the replica's and admin's share).
ALTER ROLE gridcase_owner CONNECTION LIMIT 5;
ALTER ROLE gridcase_supervision CONNECTION LIMIT 110;  -- 4 pods x 26 + slack
ALTER ROLE gridcase_disposal CONNECTION LIMIT 110;     -- 4 pods x 26 + slack
ALTER ROLE gridcase_api CONNECTION LIMIT 130;          -- 6 pods x 20 + slack

SELECT 'CREATE DATABASE gridcase OWNER gridcase_owner'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'gridcase')
\gexec

REVOKE ALL ON DATABASE gridcase FROM PUBLIC;
GRANT CONNECT ON DATABASE gridcase
   TO gridcase_owner, gridcase_supervision, gridcase_disposal, gridcase_api;
