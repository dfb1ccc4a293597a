/**
 * s3rver for integration tests: `npm test` starts one for the run (TEST_S3_ENDPOINT); each test
 * makes its own bucket. s3rver ignores signatures (STACK.md), so credentials here prove nothing
 * about signing.
 */
import { randomBytes } from 'node:crypto'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

export function s3Endpoint(): string {
  const endpoint = process.env.TEST_S3_ENDPOINT
  if (!endpoint) throw new Error('Run tests through `npm test`: it starts s3rver (TEST_S3_ENDPOINT is unset)')
  return endpoint
}

/** A plain SDK client on s3rver, for setting up and inspecting buckets behind Carcosa's back. */
export function rawS3Client(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3Endpoint(),
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/** Creates an empty bucket with a unique name and returns the fields of a bucket registration. */
export async function createS3Bucket(prefix = 'test') {
  const bucketName = `${prefix}-${randomBytes(5).toString('hex')}`
  await rawS3Client().send(new CreateBucketCommand({ Bucket: bucketName }))
  return {
    provider: 's3-compatible' as const,
    bucketName,
    region: 'us-east-1',
    endpoint: s3Endpoint(),
    forcePathStyle: true,
    ...S3_CREDENTIALS,
  }
}
