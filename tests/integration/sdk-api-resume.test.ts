/**
 * CarcosaApi's resumable multipart uploads against a real Carcosa and s3rver: an upload stopped
 * after its first part continues in a later call from the saved state, sending only the parts that
 * were missing; a saved upload that Carcosa no longer has starts afresh.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { before, test } from 'node:test'
import { CarcosaApi, CarcosaError, memoryResumeStore, type InitUploadResult, type ResumeStore } from '@carcosa/sdk'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { startCarcosa } from '../support/carcosa-server'
import { attachS3Bucket } from '../support/storage-factories'

const MIB = 1024 * 1024
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

let carcosaUrl: string
let apiKey: string

before(async () => {
  const workspace = await createWorkspace()
  await attachS3Bucket(workspace.project.id)
  apiKey = (await createTestApiKey(workspace.owner.actor, workspace.project.id, ['files:read', 'files:write', 'files:delete'])).key
  carcosaUrl = await startCarcosa()
})

/** A client that records the part numbers it asks Carcosa to sign (each signed part is a part sent). */
function countingApi() {
  const signed: number[] = []
  const api = new CarcosaApi({
    apiKey,
    baseUrl: carcosaUrl,
    multipartThreshold: MIB,
    fetch: async (input, init) => {
      if (/\/parts$/.test(new URL(String(input)).pathname))
        signed.push(...(JSON.parse(String(init?.body)) as { partNumbers: number[] }).partNumbers)
      return fetch(input, init)
    },
  })
  return { api, signed }
}

test('an interrupted multipart upload resumes from the saved parts in a later call', async () => {
  const bytes = randomBytes(20 * MIB) // three 8 MiB parts
  const source = () => ({ name: 'big.bin', blob: new Blob([bytes]) })
  const store = memoryResumeStore<InitUploadResult>()
  const controller = new AbortController()
  // Stop after the first part is saved: the store is the resumable state a new process would read.
  const stopping: ResumeStore<InitUploadResult> = {
    get: store.get,
    delete: store.delete,
    set: async (key, state) => {
      await store.set(key, state)
      if (state.parts.length >= 1) controller.abort()
    },
  }
  const first = countingApi()
  await assert.rejects(
    first.api.uploadFiles(source(), { resumeStore: stopping, resumeKey: () => 'big', partConcurrency: 1, signal: controller.signal }),
    (error: unknown) => error instanceof CarcosaError && error.code === 'ABORTED',
  )
  const saved = await store.get('big')
  assert.ok(saved, 'the interrupted upload left its state')
  assert.equal(saved.upload.method, 'MULTIPART')
  assert.deepEqual(
    saved.parts.map((p) => p.partNumber),
    [1],
  )

  const second = countingApi()
  const result = await second.api.uploadFiles(source(), { resumeStore: store, resumeKey: () => 'big', partConcurrency: 1 })
  assert.ok(result.data, String(result.error))
  assert.equal(result.data.size, bytes.length)
  assert.deepEqual(second.signed.sort(), [2, 3], 'only the missing parts were sent')
  assert.equal(await store.get('big'), null, 'a completed upload forgets its state')
  const { url } = await second.api.getDownloadUrl(result.data.id)
  assert.equal(sha(new Uint8Array(await (await fetch(url)).arrayBuffer())), sha(bytes))
})

test('a saved upload that Carcosa no longer has starts afresh', async () => {
  const bytes = randomBytes(9 * MIB)
  const store = memoryResumeStore<InitUploadResult>()
  const { api, signed } = countingApi()
  const started = await api.initUpload({ fileName: 'gone.bin', contentType: 'application/octet-stream', size: bytes.length, multipart: true })
  await api.abortUpload(started.uploadId)
  await store.set('gone', { upload: started, parts: [], savedAt: Date.now() })
  const result = await api.uploadFiles({ name: 'gone.bin', blob: new Blob([bytes]) }, { resumeStore: store, resumeKey: () => 'gone' })
  assert.ok(result.data, String(result.error))
  assert.equal(result.data.size, bytes.length)
  assert.deepEqual(signed, [1, 2, 1, 2], 'signing the aborted upload was refused, then a new one sent both parts')
  assert.equal(await store.get('gone'), null)
})

test('an abort while completing (the answer cut short) keeps the upload resumable, and the next call only completes it', async () => {
  const bytes = randomBytes(9 * MIB)
  const store = memoryResumeStore<InitUploadResult>()
  const controller = new AbortController()
  const cutting = new CarcosaApi({
    apiKey,
    baseUrl: carcosaUrl,
    multipartThreshold: MIB,
    // The completion reaches Carcosa, then the user aborts while its answer is read.
    fetch: async (input, init) => {
      const response = await fetch(input, init)
      if (!new URL(String(input)).pathname.endsWith('/uploads/complete')) return response
      controller.abort()
      const body = new ReadableStream({ pull: (c) => c.error(new DOMException('The operation was aborted', 'AbortError')) })
      return new Response(body, { status: response.status, headers: response.headers })
    },
  })
  await assert.rejects(
    cutting.uploadFiles({ name: 'cut.bin', blob: new Blob([bytes]) }, { resumeStore: store, resumeKey: () => 'cut', signal: controller.signal }),
    (error: unknown) => error instanceof CarcosaError && error.code === 'ABORTED',
  )
  assert.equal((await store.get('cut'))?.parts.length, 2, 'the state survived the abort')
  const { api, signed } = countingApi()
  const result = await api.uploadFiles({ name: 'cut.bin', blob: new Blob([bytes]) }, { resumeStore: store, resumeKey: () => 'cut' })
  assert.ok(result.data, String(result.error))
  assert.equal(result.data.size, bytes.length)
  assert.deepEqual(signed, [], 'no part was sent again')
})
