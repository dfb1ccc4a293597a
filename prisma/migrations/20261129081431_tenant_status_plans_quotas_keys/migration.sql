-- CreateEnum
CREATE TYPE "TenantStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'ARCHIVED');

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "tenantId" TEXT;

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "fileCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "maxFileBytes" BIGINT,
ADD COLUMN     "maxFiles" INTEGER,
ADD COLUMN     "maxStoredBytes" BIGINT,
ADD COLUMN     "maxTransformsPerHour" INTEGER,
ADD COLUMN     "maxUploadsPerHour" INTEGER,
ADD COLUMN     "planId" TEXT,
ADD COLUMN     "quotaLevels" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "reservedBytes" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "reservedFiles" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "status" "TenantStatus" NOT NULL DEFAULT 'ACTIVE',
ADD COLUMN     "storedBytes" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "uploadsHour" TIMESTAMP(3),
ADD COLUMN     "uploadsInHour" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Plan" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "maxStoredBytes" BIGINT,
    "maxFiles" INTEGER,
    "maxFileBytes" BIGINT,
    "maxUploadsPerHour" INTEGER,
    "maxTransformsPerHour" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Plan_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Plan_projectId_name_key" ON "Plan"("projectId", "name");

-- CreateIndex
CREATE INDEX "Tenant_planId_idx" ON "Tenant"("planId");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tenant" ADD CONSTRAINT "Tenant_planId_fkey" FOREIGN KEY ("planId") REFERENCES "Plan"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Plan" ADD CONSTRAINT "Plan_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Tenant usage kept by the database itself (ADR 025): every path that creates, moves or deletes a
-- file, or starts and settles an upload, keeps the counters right, whatever service wrote the row.
CREATE FUNCTION "carcosa_tenant_file_usage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."tenantId" IS NOT NULL THEN
    UPDATE "Tenant" SET "storedBytes" = "storedBytes" - OLD.size, "fileCount" = "fileCount" - 1 WHERE id = OLD."tenantId";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."tenantId" IS NOT NULL THEN
    UPDATE "Tenant" SET "storedBytes" = "storedBytes" + NEW.size, "fileCount" = "fileCount" + 1 WHERE id = NEW."tenantId";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "File_tenant_usage" AFTER INSERT OR DELETE OR UPDATE OF size, "tenantId" ON "File"
  FOR EACH ROW EXECUTE FUNCTION "carcosa_tenant_file_usage"();

-- A pending upload reserves its declared bytes and one file until it completes, fails, is aborted or expires.
CREATE FUNCTION "carcosa_tenant_upload_reservation"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."tenantId" IS NOT NULL AND OLD.status = 'PENDING' THEN
    UPDATE "Tenant" SET "reservedBytes" = "reservedBytes" - OLD.size, "reservedFiles" = "reservedFiles" - 1 WHERE id = OLD."tenantId";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."tenantId" IS NOT NULL AND NEW.status = 'PENDING' THEN
    UPDATE "Tenant" SET "reservedBytes" = "reservedBytes" + NEW.size, "reservedFiles" = "reservedFiles" + 1 WHERE id = NEW."tenantId";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "Upload_tenant_reservation" AFTER INSERT OR DELETE OR UPDATE OF status, size, "tenantId" ON "Upload"
  FOR EACH ROW EXECUTE FUNCTION "carcosa_tenant_upload_reservation"();

UPDATE "Tenant" t SET "storedBytes" = s.bytes, "fileCount" = s.files
  FROM (SELECT "tenantId", SUM(size) AS bytes, COUNT(*) AS files FROM "File" WHERE "tenantId" IS NOT NULL GROUP BY "tenantId") s
 WHERE s."tenantId" = t.id;

UPDATE "Tenant" t SET "reservedBytes" = s.bytes, "reservedFiles" = s.files
  FROM (SELECT "tenantId", SUM(size) AS bytes, COUNT(*) AS files FROM "Upload" WHERE "tenantId" IS NOT NULL AND status = 'PENDING' GROUP BY "tenantId") s
 WHERE s."tenantId" = t.id;
