// Where a server's CPU went, from a V8 .cpuprofile (BENCH_CPU_PROF=1): each sample is charged to
// the innermost frame on its stack that belongs to a named area (a library, one of our modules, or
// a part of Node such as the socket write), so crypto called by the JWT signer counts as signing
// and a socket write called by Fastify counts as the socket write; anything under Node's module
// loader is the process starting, not a request. Idle time is left out.
//   tsx scripts/bench/profile.ts <file.cpuprofile> [...]
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

interface CallFrame { functionName: string, url: string }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const START_UP = 'start-up (loading and compiling modules)'
const LOADING = /node:internal\/modules\/|node:internal\/bootstrap\/|prepareMainThreadExecution/

/** Areas, matched in order against a frame's function name and URL; the first match names it. */
const AREAS: Array<[area: string, test: RegExp]> = [
  ['garbage collection', /^\(garbage collector\)/],
  ['socket write (node:net, stream writev)', /node:net |stream_base_commons|writev|writeGeneric|_http_outgoing/],
  ['HTTP parsing and the response object (node:_http_server, llhttp)', /_http_server|_http_common|_http_incoming|HTTPParser|parserOnHeadersComplete/],
  ['logging (pino, sonic-boom, the access-log line)', /node_modules\/(pino|sonic-boom|fast-redact|@pinojs)|server-options\.js/],
  ['JWT signing and verification (fast-jwt, @fastify/jwt, plugins/jwt, lib/keys)', /node_modules\/(fast-jwt|@fastify\/jwt|mnemonist)|plugins\/jwt\.js|lib\/keys\.js|lib\/access-token\.js/],
  ['phone parsing (libphonenumber-js)', /node_modules\/libphonenumber-js/],
  ['rate limiting (@fastify/rate-limit, caller limits)', /node_modules\/@fastify\/rate-limit|plugins\/(rate-limit|caller-limits)\.js/],
  ['authentication (auth hook, API keys, DPoP)', /plugins\/auth\.js|lib\/(api-keys|dpop|dpop-nonce|clients)\.js|plugins\/clients\.js/],
  ['store (memory store, repositories)', /plugins\/store\//],
  ['refresh sessions and random ids (lib/random, sessions)', /lib\/(random|refresh|sessions?)\.js|plugins\/(sessions|tokens)\.js/],
  ['App Verify and verifications (domain code)', /lib\/(appverify|verification|otp|phone)\.js|plugins\/(appverify|verifications)\.js/],
  ['metrics (prom-client)', /node_modules\/prom-client|plugins\/metrics\.js/],
  ['routes and schemas (our handlers)', /\/routes\/|\/schemas\//],
  ['serialization and validation (fast-json-stringify, ajv)', /node_modules\/(fast-json-stringify|ajv|@fastify\/(ajv-compiler|fast-json-stringify-compiler))|^anonymous$/],
  ['Fastify core and router (fastify, find-my-way, avvio)', /node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify\/(error|merge-json-schemas|proxy-addr|forwarded))/],
  ['the yardstick routes and stock hooks (scripts/bench)', /scripts\/bench\/(baseline|minimal-routes|stock)\./],
  ['other own code (app, http hardening, errors, events)', /\/dist\//]
]

const label = (frame: CallFrame): string => `${frame.functionName} ${frame.url}`

export function breakdown (profile: CpuProfile): { busyMs: number, areas: Array<[string, number]> } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const areaOf = new Map<number, string | undefined>()
  const ownArea = (id: number): string | undefined => {
    if (!areaOf.has(id)) {
      const frame = nodes.get(id)?.callFrame
      areaOf.set(id, frame === undefined ? undefined : AREAS.find(([, test]) => test.test(label(frame)))?.[0])
    }
    return areaOf.get(id)
  }
  const charged = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((sample, index) => {
    const micros = profile.timeDeltas[index] ?? 0
    const leaf = nodes.get(sample)?.callFrame
    if (leaf === undefined || leaf.functionName === '(idle)') return
    busy += micros
    let area: string | undefined
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = nodes.get(id)?.callFrame
      if (frame !== undefined && LOADING.test(label(frame))) {
        area = START_UP
        break
      }
      area ??= ownArea(id)
    }
    const name = area ?? (leaf.functionName === '(program)' ? 'V8 and native, no JavaScript frame ((program))' : 'Node internals and the rest (timers, events, crypto outside signing)')
    charged.set(name, (charged.get(name) ?? 0) + micros)
  })
  return { busyMs: busy / 1000, areas: [...charged].map(([name, micros]): [string, number] => [name, micros / 1000]).sort((a, b) => b[1] - a[1]) }
}

export function report (file: string): string {
  const { busyMs, areas } = breakdown(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile)
  const lines = areas.map(([name, ms]) => `  ${(100 * ms / busyMs).toFixed(1).padStart(5)}%  ${name}`)
  return `${file}: ${busyMs.toFixed(0)} ms busy\n${lines.join('\n')}`
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${report(file)}\n`)
}
