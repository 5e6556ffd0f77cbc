import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from '../app.js'
import { loadConfig } from '../lib/config.js'

/** Renders the OpenAPI document from the app itself (development defaults, nothing persisted). */
export async function renderOpenApi (env: Record<string, string> = {}): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env }, { secretsFile: null })
  const app = await build({ config })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL('../openapi.yaml', import.meta.url))
  writeFileSync(target, await renderOpenApi())
  process.stdout.write(`wrote ${target}\n`)
}
