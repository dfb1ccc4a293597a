-- CreateEnum
CREATE TYPE "AdoptionStatus" AS ENUM ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "AdoptionItemStatus" AS ENUM ('ADOPTED', 'ALREADY_ADOPTED', 'SKIPPED', 'FAILED');

-- AlterTable
ALTER TABLE "File" ADD COLUMN     "adoptedFromKey" TEXT;

-- CreateTable
CREATE TABLE "AdoptionRun" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "bucketId" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "status" "AdoptionStatus" NOT NULL DEFAULT 'RUNNING',
    "pageStartAfter" TEXT NOT NULL DEFAULT '',
    "pagesDone" INTEGER NOT NULL DEFAULT 0,
    "leaseId" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "scanned" INTEGER NOT NULL DEFAULT 0,
    "adopted" INTEGER NOT NULL DEFAULT 0,
    "adoptedBytes" BIGINT NOT NULL DEFAULT 0,
    "alreadyAdopted" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "AdoptionRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AdoptionItem" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "status" "AdoptionItemStatus" NOT NULL,
    "tenantId" TEXT,
    "fileId" TEXT,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AdoptionItem_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AdoptionRun_projectId_id_idx" ON "AdoptionRun"("projectId", "id");

-- CreateIndex
CREATE INDEX "AdoptionItem_runId_status_id_idx" ON "AdoptionItem"("runId", "status", "id");

-- CreateIndex
CREATE UNIQUE INDEX "AdoptionItem_runId_key_key" ON "AdoptionItem"("runId", "key");

-- CreateIndex
CREATE UNIQUE INDEX "File_bucketId_adoptedFromKey_key" ON "File"("bucketId", "adoptedFromKey");

-- AddForeignKey
ALTER TABLE "AdoptionRun" ADD CONSTRAINT "AdoptionRun_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AdoptionItem" ADD CONSTRAINT "AdoptionItem_runId_fkey" FOREIGN KEY ("runId") REFERENCES "AdoptionRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;
