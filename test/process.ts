import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const serverPath = fileURLToPath(new URL('../server.ts', import.meta.url))
// The test processes' own TypeScript loader (package.json `tap.node-arg`), with its transpile cache.
const loader = fileURLToPath(new URL('./loader/register.mjs', import.meta.url))

export interface ServerProcess {
  port: number
  base: string
  output: () => string
  exited: Promise<number | null>
  kill: (signal: NodeJS.Signals) => void
}

/** Runs server.ts in its own process and scratch directory, as `npm start` would. */
export function spawnServer (env: Record<string, string>) {
  const cwd = mkdtempSync(join(tmpdir(), 'tokenmint-server-'))
  return spawn(process.execPath, ['--import', loader, serverPath], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
}

/** Starts server.ts and resolves once it listens and `ready` matches its output. */
export async function startServer (env: Record<string, string>, ready = /Server listening/): Promise<ServerProcess> {
  const child = spawnServer(env)
  let output = ''
  child.stdout.on('data', (chunk) => { output += String(chunk) })
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  // 'close' comes after the child's output has been read to the end ('exit' may come before).
  const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not start:\n${output}`)) }, 30_000)
    const check = (): void => {
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match?.[1] !== undefined && ready.test(output)) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      } else if (child.exitCode !== null) {
        clearTimeout(timer)
        reject(new Error(`server exited:\n${output}`))
      } else setTimeout(check, 50)
    }
    check()
  })
  return { port, base: `http://127.0.0.1:${port}`, output: () => output, exited, kill: (signal) => child.kill(signal) }
}
