-- etrn-roles.sql - least-privilege roles for an ETRN Sweeper store that
-- several hosts share in PostgreSQL.
--
-- Run it with psql as a role that may create roles (e.g. postgres), in the
-- database the hosts share, twice: once before the first sweep, which
-- creates the schema as etrn_sweeper, and once after it (and after an
-- upgrade that adds tables), to grant on the tables that exist then:
--
--   psql -v ON_ERROR_STOP=1 -d etrn -f etrn-roles.sql
--   etrn-sweeper sweep       # database = postgresql://etrn_sweeper@db.example/etrn
--   psql -v ON_ERROR_STOP=1 -d etrn -f etrn-roles.sql
--
-- It is idempotent. It sets no passwords: give each role one (ALTER ROLE
-- ... PASSWORD, kept in database_password_file or ~/.pgpass on each host)
-- or use certificates.
--
--   etrn_sweeper  owns the schema `etrn`: creates and migrates it, reads and
--                 changes the records (the sweeper on each host)
--   etrn_milter   records mail: reads and inserts messages and recipients,
--                 inserts events; it can neither change nor delete a row
--   etrn_auditor  reads the audit views etrn_audit and etrn_events only
--
-- The append-only history does not rest on these grants: triggers in the
-- schema refuse any change of an event and any delete of events or closed
-- records outside a prune of old history, whoever asks (the owner too).

DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['etrn_sweeper', 'etrn_milter', 'etrn_auditor'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', name);
    END IF;
  END LOOP;
END
$$;

CREATE SCHEMA IF NOT EXISTS etrn AUTHORIZATION etrn_sweeper;
REVOKE ALL ON SCHEMA etrn FROM PUBLIC;
GRANT USAGE ON SCHEMA etrn TO etrn_milter, etrn_auditor;
ALTER ROLE etrn_sweeper IN DATABASE :"DBNAME" SET search_path = etrn;
ALTER ROLE etrn_milter IN DATABASE :"DBNAME" SET search_path = etrn;
ALTER ROLE etrn_auditor IN DATABASE :"DBNAME" SET search_path = etrn;

DO $$
BEGIN
  IF to_regclass('etrn.messages') IS NULL THEN
    RAISE NOTICE 'no tables in schema etrn yet: run a sweep as etrn_sweeper, then this file again';
    RETURN;
  END IF;
  REVOKE ALL ON ALL TABLES IN SCHEMA etrn FROM etrn_milter, etrn_auditor;
  -- The milter looks for a message or recipient it recorded already (a
  -- retried batch), and reads the schema's version.
  GRANT SELECT ON etrn.etrn_schema TO etrn_milter;
  GRANT SELECT, INSERT ON etrn.messages, etrn.recipients TO etrn_milter;
  GRANT INSERT ON etrn.events TO etrn_milter;
  GRANT SELECT ON etrn.etrn_audit, etrn.etrn_events TO etrn_auditor;
END
$$;
