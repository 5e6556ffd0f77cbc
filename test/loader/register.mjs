// The TypeScript loader for the test processes (package.json `tap.node-arg`): TypeScript in,
// JavaScript with an inline source map out, through @swc/core in Node's module-hooks thread.
// tap's own TypeScript plugin (ts-node) loads the TypeScript compiler in both threads of every test
// process, about 1.5 CPU-seconds each of 68 processes; tsx is as fast as this one but minifies
// whitespace, which folds each file onto one line for coverage.
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
