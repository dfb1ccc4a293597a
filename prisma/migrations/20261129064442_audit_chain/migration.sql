-- DropIndex
DROP INDEX "AuditLog_organizationId_createdAt_idx";

-- DropIndex
DROP INDEX "AuditLog_targetType_targetId_idx";

-- DropIndex
DROP INDEX "AuditLog_actorId_createdAt_idx";

-- CreateIndex
CREATE INDEX "AuditLog_actorId_createdAt_id_idx" ON "AuditLog"("actorId", "createdAt", "id");

-- AlterTable
ALTER TABLE "AuditLog" ADD COLUMN     "chainKey" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "hash" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "prevHash" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "projectId" TEXT,
ADD COLUMN     "seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "teamId" TEXT,
ADD COLUMN     "tenantId" TEXT;

-- CreateTable
CREATE TABLE "AuditChain" (
    "key" TEXT NOT NULL,
    "lastSeq" BIGINT NOT NULL DEFAULT 0,
    "lastHash" TEXT NOT NULL,
    "anchorSeq" BIGINT NOT NULL DEFAULT 0,
    "anchorHash" TEXT NOT NULL,
    "anchorAt" TIMESTAMP(3),
    "prunedCount" BIGINT NOT NULL DEFAULT 0,
    "prunedAt" TIMESTAMP(3),

    CONSTRAINT "AuditChain_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "AuditLog_organizationId_createdAt_id_idx" ON "AuditLog"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_organizationId_action_createdAt_id_idx" ON "AuditLog"("organizationId", "action", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_organizationId_actorId_createdAt_id_idx" ON "AuditLog"("organizationId", "actorId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_teamId_createdAt_id_idx" ON "AuditLog"("teamId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_projectId_createdAt_id_idx" ON "AuditLog"("projectId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_projectId_tenantId_createdAt_id_idx" ON "AuditLog"("projectId", "tenantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_targetType_targetId_createdAt_id_idx" ON "AuditLog"("targetType", "targetId", "createdAt", "id");

-- Audit hash chain, append-only guard and retention (ADR 024). Written by hand: Prisma's schema
-- cannot express functions and triggers.

-- The canonical form of an entry is the JSON array below as PostgreSQL prints jsonb; its hash is the
-- hex sha256 of that text. Every column but `hash` is covered, so altering any of them shows.
CREATE FUNCTION carcosa_audit_hash(e "AuditLog") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    e."chainKey", e.seq, e.id, e."organizationId", e."teamId", e."projectId", e."tenantId",
    e."actorType", e."actorId", e."ipAddress", e."userAgent", e.action, e."targetType", e."targetId",
    e.before, e.after, to_char(e."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), e."prevHash"
  )::text, 'UTF8')), 'hex')
$$;


-- Entries written before the chain existed join it in the order they were written.
DO $$
DECLARE
  r record;
  chain text := NULL;
  n bigint := 0;
  previous text := repeat('0', 64);
BEGIN
  FOR r IN SELECT id, coalesce("organizationId", '') AS k FROM "AuditLog" ORDER BY 2, "createdAt", id LOOP
    IF chain IS DISTINCT FROM r.k THEN
      IF chain IS NOT NULL THEN
        INSERT INTO "AuditChain" (key, "lastSeq", "lastHash", "anchorHash") VALUES (chain, n, previous, repeat('0', 64));
      END IF;
      chain := r.k;
      n := 0;
      previous := repeat('0', 64);
    END IF;
    n := n + 1;
    UPDATE "AuditLog" SET "chainKey" = r.k, seq = n, "prevHash" = previous WHERE id = r.id;
    UPDATE "AuditLog" a SET hash = carcosa_audit_hash(a) WHERE a.id = r.id RETURNING a.hash INTO previous;
  END LOOP;
  IF chain IS NOT NULL THEN
    INSERT INTO "AuditChain" (key, "lastSeq", "lastHash", "anchorHash") VALUES (chain, n, previous, repeat('0', 64));
  END IF;
END $$;

-- CreateIndex
CREATE UNIQUE INDEX "AuditLog_chainKey_seq_key" ON "AuditLog"("chainKey", "seq");

-- Appends the entry to its organization's chain. The chain's head row stays locked until the
-- writer's transaction ends, so concurrent writers in one organization queue up and form one chain,
-- and an entry whose transaction rolls back never takes a number.
CREATE FUNCTION carcosa_audit_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head "AuditChain";
BEGIN
  NEW."chainKey" := coalesce(NEW."organizationId", '');
  -- Entries about a project name its team too, so a team's readers find them.
  IF NEW."projectId" IS NOT NULL AND NEW."teamId" IS NULL THEN
    SELECT p."teamId" INTO NEW."teamId" FROM "Project" p WHERE p.id = NEW."projectId";
  END IF;
  INSERT INTO "AuditChain" (key, "lastHash", "anchorHash") VALUES (NEW."chainKey", repeat('0', 64), repeat('0', 64))
    ON CONFLICT (key) DO NOTHING;
  SELECT * INTO head FROM "AuditChain" WHERE key = NEW."chainKey" FOR UPDATE;
  NEW.seq := head."lastSeq" + 1;
  NEW."prevHash" := head."lastHash";
  NEW.hash := carcosa_audit_hash(NEW);
  UPDATE "AuditChain" SET "lastSeq" = NEW.seq, "lastHash" = NEW.hash WHERE key = NEW."chainKey";
  RETURN NEW;
END $$;

CREATE TRIGGER carcosa_audit_append BEFORE INSERT ON "AuditLog" FOR EACH ROW EXECUTE FUNCTION carcosa_audit_append();

-- Entries are never changed. The only deletion allowed is retention's: entries at or before their
-- chain's anchor, which pruning moves first (carcosa_audit_prune).
CREATE FUNCTION carcosa_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM "AuditChain" c WHERE c.key = OLD."chainKey" AND OLD.seq <= c."anchorSeq") THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit log entries are append-only: % of entry % refused', TG_OP, OLD.id
    USING ERRCODE = 'insufficient_privilege', HINT = 'Retention prunes old entries through carcosa_audit_prune.';
END $$;

CREATE TRIGGER carcosa_audit_refuse_change BEFORE UPDATE OR DELETE ON "AuditLog" FOR EACH ROW EXECUTE FUNCTION carcosa_audit_refuse_change();

-- A chain head only moves forward: its last entry by one appended entry, its anchor to a real
-- entry of the chain written more than a day ago (so no one can prune recent history), and a
-- head is never deleted.
CREATE FUNCTION carcosa_audit_guard_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit chain heads cannot be deleted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.key <> OLD.key OR NEW."lastSeq" < OLD."lastSeq" OR NEW."anchorSeq" < OLD."anchorSeq" OR NEW."prunedCount" < OLD."prunedCount" THEN
    RAISE EXCEPTION 'audit chain % only moves forward', OLD.key USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW."anchorSeq" <> OLD."anchorSeq" OR NEW."anchorHash" <> OLD."anchorHash" THEN
    IF NOT EXISTS (
      SELECT 1 FROM "AuditLog" a
      WHERE a."chainKey" = NEW.key AND a.seq = NEW."anchorSeq" AND a.hash = NEW."anchorHash"
        AND a."createdAt" < (now() AT TIME ZONE 'UTC') - interval '1 day'
    ) THEN
      RAISE EXCEPTION 'audit chain % anchor must be an entry of the chain older than a day', OLD.key USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER carcosa_audit_guard_chain BEFORE UPDATE OR DELETE ON "AuditChain" FOR EACH ROW EXECUTE FUNCTION carcosa_audit_guard_chain();

-- Retention: moves the chain's anchor to its newest entry written before `cutoff`, then deletes the
-- entries up to it. Returns how many were deleted. What remains still verifies from the anchor.
CREATE FUNCTION carcosa_audit_prune(chain text, cutoff timestamp) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  head "AuditChain";
  anchor "AuditLog";
  deleted bigint;
BEGIN
  SELECT * INTO head FROM "AuditChain" WHERE key = chain FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  SELECT * INTO anchor FROM "AuditLog" a
    WHERE a."chainKey" = chain AND a.seq > head."anchorSeq" AND a."createdAt" < cutoff
    ORDER BY a.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  UPDATE "AuditChain" SET "anchorSeq" = anchor.seq, "anchorHash" = anchor.hash, "anchorAt" = anchor."createdAt",
    "prunedAt" = now() AT TIME ZONE 'UTC'
    WHERE key = chain;
  DELETE FROM "AuditLog" a WHERE a."chainKey" = chain AND a.seq <= anchor.seq;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  UPDATE "AuditChain" SET "prunedCount" = "prunedCount" + deleted WHERE key = chain;
  RETURN deleted;
END $$;
