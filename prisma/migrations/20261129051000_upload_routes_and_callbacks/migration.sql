-- AlterTable
ALTER TABLE "Upload" ADD COLUMN     "callbackClaimExpiresAt" TIMESTAMP(3),
ADD COLUMN     "callbackClaimId" TEXT,
ADD COLUMN     "callbackDoneAt" TIMESTAMP(3),
ADD COLUMN     "callbackResult" JSONB,
ADD COLUMN     "callbackUrl" TEXT,
ADD COLUMN     "metadata" JSONB,
ADD COLUMN     "routeMaxBytes" BIGINT,
ADD COLUMN     "routeSlug" TEXT,
ADD COLUMN     "routeTypes" TEXT[] DEFAULT ARRAY[]::TEXT[];
