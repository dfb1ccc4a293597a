-- CreateTable
CREATE TABLE "UploadCallbackAttempt" (
    "id" TEXT NOT NULL,
    "uploadId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "attemptedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "statusCode" INTEGER,
    "latencyMs" INTEGER NOT NULL,
    "responseBody" TEXT NOT NULL DEFAULT '',
    "error" TEXT,

    CONSTRAINT "UploadCallbackAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UploadCallbackAttempt_projectId_attemptedAt_id_idx" ON "UploadCallbackAttempt"("projectId", "attemptedAt", "id");

-- CreateIndex
CREATE INDEX "UploadCallbackAttempt_uploadId_attemptedAt_idx" ON "UploadCallbackAttempt"("uploadId", "attemptedAt");

-- AddForeignKey
ALTER TABLE "UploadCallbackAttempt" ADD CONSTRAINT "UploadCallbackAttempt_uploadId_fkey" FOREIGN KEY ("uploadId") REFERENCES "Upload"("id") ON DELETE CASCADE ON UPDATE CASCADE;
