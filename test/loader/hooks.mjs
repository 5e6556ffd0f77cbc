// Module hooks for test/loader/register.mjs: `./x.js` from a TypeScript file finds `./x.ts` (NodeNext
// imports name the emitted file), and a .ts file is transpiled without type checking, as tsconfig.json
// compiles it (ES2022 with define semantics for class fields; type-only imports elided).
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from '@swc/core'

const TYPESCRIPT = /\.m?ts$/
const RELATIVE_JS = /^\.{1,2}\/.*\.js$/

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
  const { code } = await transform(await readFile(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    isModule: true,
    module: { type: 'es6' },
    jsc: {
      parser: { syntax: 'typescript' },
      target: 'es2022',
      keepClassNames: true,
      transform: { useDefineForClassFields: true }
    }
  })
  return { format: 'module', source: code, shortCircuit: true }
}
