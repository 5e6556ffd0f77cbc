import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { breakdown, report } from '../../scripts/bench/profile.js'

const frame = (functionName: string, url = ''): { functionName: string, url: string } => ({ functionName, url })

// root -> fastify handler -> fast-jwt sign -> crypto (sampled 30 µs: signing)
//                         -> socket writev (sampled 20 µs: socket write)
// root -> (garbage collector) 10 µs, (idle) 500 µs (left out), (program) 5 µs,
// root -> a timer in node:internal 5 µs (the rest)
// root -> the module loader -> fastify's top level 15 µs (start-up, not Fastify)
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6, 7, 8, 9, 10] },
    { id: 2, callFrame: frame('handler', 'file:///srv/node_modules/fastify/lib/handle-request.js'), children: [3, 5] },
    { id: 3, callFrame: frame('sign', 'file:///srv/node_modules/fast-jwt/src/signer.js'), children: [4] },
    { id: 4, callFrame: frame('hmac', 'node:internal/crypto/hash') },
    { id: 5, callFrame: frame('writev', 'node:internal/stream_base_commons') },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('(idle)') },
    { id: 8, callFrame: frame('(program)') },
    { id: 9, callFrame: frame('listOnTimeout', 'node:internal/timers') },
    { id: 10, callFrame: frame('moduleStrategy', 'node:internal/modules/esm/translators'), children: [11] },
    { id: 11, callFrame: frame('', 'file:///srv/node_modules/fastify/fastify.js') }
  ],
  samples: [4, 4, 5, 6, 7, 8, 9, 11],
  timeDeltas: [10, 20, 20, 10, 500, 5, 5, 15]
}

test('bench profile: each sample is charged to the innermost named area; idle is left out', async (t) => {
  const { busyMs, areas } = breakdown(profile)
  t.equal(busyMs, 0.085)
  t.same(Object.fromEntries(areas), {
    'start-up (loading and compiling modules)': 0.015,
    'JWT signing and verification (fast-jwt, @fastify/jwt, plugins/jwt, lib/keys)': 0.03,
    'socket write (node:net, stream writev)': 0.02,
    'garbage collection': 0.01,
    'V8 and native, no JavaScript frame ((program))': 0.005,
    'Node internals and the rest (timers, events, crypto outside signing)': 0.005
  })
  t.equal(areas[0]?.[0], 'JWT signing and verification (fast-jwt, @fastify/jwt, plugins/jwt, lib/keys)', 'largest first')

  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-profile-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'service.cpuprofile')
  writeFileSync(file, JSON.stringify(profile))
  const printed = report(file)
  t.match(printed, `${file}: 0 ms busy`)
  t.match(printed, /\n +35\.3% {2}JWT signing/)
  t.match(printed, /\n +23\.5% {2}socket write/)
})

test('bench profile: the yardstick routes and our other built modules are told apart', async (t) => {
  const built = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('handler', 'file:///work/main/dist/scripts/bench/minimal-routes.js') },
      { id: 3, callFrame: frame('onRequest', 'file:///work/main/dist/plugins/http.js') },
      { id: 4, callFrame: frame('apiKey', 'file:///work/main/dist/scripts/bench/stock.js') },
      { id: 5, callFrame: frame('start', 'file:///work/main/dist/scripts/bench/baseline.js') }
    ],
    samples: [2, 3, 3, 4, 5],
    timeDeltas: [10, 10, 10, 10, 10]
  }
  t.same(Object.fromEntries(breakdown(built).areas), {
    'the yardstick routes and stock hooks (scripts/bench)': 0.03,
    'other own code (app, http hardening, errors, events)': 0.02
  })
})
