import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface S3rverHandle {
  endpoint: string
  stop(): Promise<void>
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-process.ts')

/** Starts s3rver in a child process on a free loopback port with a fresh temporary directory. */
export async function startS3rver(): Promise<S3rverHandle> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-s3rver-'))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SCRIPT, directory], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim() },
  })
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /S3RVER_READY (\d+)/.exec(output)
      if (match) resolve(Number(match[1]))
    })
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code} before it was ready`)))
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      await exited
      await fs.rm(directory, { recursive: true, force: true })
    },
  }
}
