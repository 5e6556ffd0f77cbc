// Module hooks for test/loader/register.mjs: `./x.js` from a TypeScript file finds `./x.ts` (NodeNext
// imports name the emitted file), and a .ts file is transpiled without type checking, as tsconfig.json
// compiles it (ES2022 with define semantics for class fields; type-only imports elided).
// Transpiled files are kept in the test cache (./cache.mjs), keyed by the source, its path, the options
// and the @swc/core version, so that only the first of the suite's processes pays for swc.
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { cacheEntry, readCached, writeCached } from './cache.mjs'

const TYPESCRIPT = /\.m?ts$/
const RELATIVE_JS = /^\.{1,2}\/.*\.js$/
const SWC_OPTIONS = {
  sourceMaps: 'inline',
  isModule: true,
  module: { type: 'es6' },
  jsc: {
    parser: { syntax: 'typescript' },
    target: 'es2022',
    keepClassNames: true,
    transform: { useDefineForClassFields: true }
  }
}
const swcVersion = JSON.parse(readFileSync(new URL('../../node_modules/@swc/core/package.json', import.meta.url), 'utf8')).version
const optionsKey = `${swcVersion} ${JSON.stringify(SWC_OPTIONS)}`
let swc

export async function resolve (specifier, context, nextResolve) {
  if (RELATIVE_JS.test(specifier) && context.parentURL !== undefined && TYPESCRIPT.test(new URL(context.parentURL).pathname)) {
    try {
      return await nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error
    }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(new URL(url).pathname)) return nextLoad(url, context)
  const filename = fileURLToPath(url)
  return { format: 'module', source: await transpile(filename, await readFile(filename, 'utf8')), shortCircuit: true }
}

async function transpile (filename, source) {
  const entry = cacheEntry('ts', '.js', optionsKey, filename, source)
  const cached = readCached(entry)
  if (cached !== undefined) return cached
  swc ??= await import('@swc/core')
  const { code } = await swc.transform(source, { ...SWC_OPTIONS, filename })
  writeCached(entry, code)
  return code
}
