-- CreateIndex
CREATE INDEX "AuditLog_projectId_action_createdAt_id_idx" ON "AuditLog"("projectId", "action", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_projectId_actorId_createdAt_id_idx" ON "AuditLog"("projectId", "actorId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "AuditLog_teamId_action_createdAt_id_idx" ON "AuditLog"("teamId", "action", "createdAt", "id");
