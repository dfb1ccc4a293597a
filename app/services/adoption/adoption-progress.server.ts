import { publish } from '~/utils/realtime-hub.server'
import { projectChannel } from '../realtime/channels'
import type { AdoptionRunView } from './adoption.server'

/**
 * `adoption.progress` on the project's live channel: the run's status and counts, after each batch
 * of objects and when it ends. Best effort, like every live message; the run itself is the record.
 */
export function publishAdoptionProgress(run: Pick<AdoptionRunView, 'id' | 'projectId' | 'status' | 'counts' | 'error'>) {
  publish(projectChannel(run.projectId), { type: 'adoption.progress', runId: run.id, status: run.status, counts: run.counts, error: run.error })
}
