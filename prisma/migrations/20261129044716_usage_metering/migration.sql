-- AlterTable
ALTER TABLE "Bucket" ADD COLUMN     "prices" JSONB;

-- CreateTable
CREATE TABLE "UsageHourly" (
    "projectId" TEXT NOT NULL,
    "tenantKey" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "uploads" BIGINT NOT NULL DEFAULT 0,
    "uploadBytes" BIGINT NOT NULL DEFAULT 0,
    "downloads" BIGINT NOT NULL DEFAULT 0,
    "downloadBytes" BIGINT NOT NULL DEFAULT 0,
    "transforms" BIGINT NOT NULL DEFAULT 0,
    "transformCacheHits" BIGINT NOT NULL DEFAULT 0,
    "transformBytes" BIGINT NOT NULL DEFAULT 0,
    "transformMs" BIGINT NOT NULL DEFAULT 0,
    "apiRequests" BIGINT NOT NULL DEFAULT 0,
    "rateLimited" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "UsageHourly_pkey" PRIMARY KEY ("projectId","tenantKey","hour")
);

-- CreateTable
CREATE TABLE "UsageDaily" (
    "projectId" TEXT NOT NULL,
    "tenantKey" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "uploads" BIGINT NOT NULL DEFAULT 0,
    "uploadBytes" BIGINT NOT NULL DEFAULT 0,
    "downloads" BIGINT NOT NULL DEFAULT 0,
    "downloadBytes" BIGINT NOT NULL DEFAULT 0,
    "transforms" BIGINT NOT NULL DEFAULT 0,
    "transformCacheHits" BIGINT NOT NULL DEFAULT 0,
    "transformBytes" BIGINT NOT NULL DEFAULT 0,
    "transformMs" BIGINT NOT NULL DEFAULT 0,
    "apiRequests" BIGINT NOT NULL DEFAULT 0,
    "rateLimited" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "UsageDaily_pkey" PRIMARY KEY ("projectId","tenantKey","day")
);

-- CreateTable
CREATE TABLE "UsageRequestsHourly" (
    "projectId" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "tier" TEXT NOT NULL,
    "statusClass" TEXT NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "UsageRequestsHourly_pkey" PRIMARY KEY ("projectId","hour","tier","statusClass")
);

-- CreateTable
CREATE TABLE "UsageStorageDaily" (
    "projectId" TEXT NOT NULL,
    "tenantKey" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "files" BIGINT NOT NULL DEFAULT 0,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "takenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageStorageDaily_pkey" PRIMARY KEY ("projectId","tenantKey","day")
);

-- CreateIndex
CREATE INDEX "UsageDaily_projectId_day_idx" ON "UsageDaily"("projectId", "day");
