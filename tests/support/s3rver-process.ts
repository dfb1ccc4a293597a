/**
 * Runs s3rver, the S3 stand-in, in its own process (it needs --openssl-legacy-provider for listings)
 * and prints `S3RVER_READY <port>` once it listens. Started by `npm test` and the storage benchmarks.
 * Usage: tsx tests/support/s3rver-process.ts <directory> [port]
 */
import S3rver from 's3rver'

const [directory, port = '0'] = process.argv.slice(2)
if (!directory) throw new Error('usage: s3rver-process.ts <directory> [port]')

const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, resetOnClose: true })
const { port: listening } = (await server.run()) as { port: number }
console.log(`S3RVER_READY ${listening}`)

const stop = () => {
  server.close().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The parent's death closes stdin: never outlive it.
process.stdin.on('end', stop)
process.stdin.resume()
