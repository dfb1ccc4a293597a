-- AlterTable
ALTER TABLE "AuditLog" ALTER COLUMN "seq" DROP NOT NULL,
ALTER COLUMN "seq" DROP DEFAULT;

-- Entries are sealed into their chain after they are written, in batches (ADR 028). Written by hand:
-- Prisma's schema cannot express functions and triggers.

-- Writing an entry no longer touches its chain's head: writers never queue on one another. The entry
-- is written unsealed (seq null) and carcosa_audit_seal numbers, links and hashes it moments later.
CREATE OR REPLACE FUNCTION carcosa_audit_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."chainKey" := coalesce(NEW."organizationId", '');
  -- Entries about a project name its team too, so a team's readers find them.
  IF NEW."projectId" IS NOT NULL AND NEW."teamId" IS NULL THEN
    SELECT p."teamId" INTO NEW."teamId" FROM "Project" p WHERE p.id = NEW."projectId";
  END IF;
  -- A chain has its head from its first entry on (the sweep finds chains by their heads). Only a new
  -- chain's first writers meet here; everyone else reads that the head exists.
  IF NOT EXISTS (SELECT 1 FROM "AuditChain" WHERE key = NEW."chainKey") THEN
    INSERT INTO "AuditChain" (key, "lastHash", "anchorHash") VALUES (NEW."chainKey", repeat('0', 64), repeat('0', 64))
      ON CONFLICT (key) DO NOTHING;
  END IF;
  NEW.seq := NULL;
  NEW."prevHash" := '';
  NEW.hash := '';
  RETURN NEW;
END $$;

-- Seals up to `max_entries` unsealed entries of a chain, oldest first, and returns how many. The
-- head's row lock makes sealers of one chain take turns; entries whose transaction has not committed
-- yet are invisible here and sealed by a later call.
CREATE FUNCTION carcosa_audit_seal(chain text, max_entries integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  head "AuditChain";
  entry "AuditLog";
  sealed integer := 0;
BEGIN
  SELECT * INTO head FROM "AuditChain" WHERE key = chain FOR UPDATE;
  -- No head: the chain's first entry has not committed yet.
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  FOR entry IN
    SELECT * FROM "AuditLog" a WHERE a."chainKey" = chain AND a.seq IS NULL ORDER BY a."createdAt", a.id LIMIT max_entries
  LOOP
    entry.seq := head."lastSeq" + 1;
    entry."prevHash" := head."lastHash";
    entry.hash := carcosa_audit_hash(entry);
    UPDATE "AuditLog" SET seq = entry.seq, "prevHash" = entry."prevHash", hash = entry.hash WHERE id = entry.id;
    head."lastSeq" := entry.seq;
    head."lastHash" := entry.hash;
    sealed := sealed + 1;
  END LOOP;
  IF sealed > 0 THEN
    UPDATE "AuditChain" SET "lastSeq" = head."lastSeq", "lastHash" = head."lastHash" WHERE key = chain;
  END IF;
  RETURN sealed;
END $$;

-- Entries are never changed, but for their sealing: an unsealed entry may receive its seq, prevHash
-- and hash once, with the hash of what it says, and nothing else about it may change. The only
-- deletion allowed is retention's: entries at or before their chain's anchor (carcosa_audit_prune).
CREATE OR REPLACE FUNCTION carcosa_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM "AuditChain" c WHERE c.key = OLD."chainKey" AND OLD.seq <= c."anchorSeq") THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND to_jsonb(NEW) - 'seq' - 'prevHash' - 'hash' = to_jsonb(OLD) - 'seq' - 'prevHash' - 'hash'
     AND NEW.hash = carcosa_audit_hash(NEW) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit log entries are append-only: % of entry % refused', TG_OP, OLD.id
    USING ERRCODE = 'insufficient_privilege', HINT = 'Retention prunes old entries through carcosa_audit_prune.';
END $$;
