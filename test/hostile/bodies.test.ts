import { test } from 'tap'
import { API_KEY } from '../helper.js'
import { bodyAttacks, hostileTarget, runHostileCases } from './harness.js'
import type { JsonRoute } from './harness.js'

export const jsonRoutes: JsonRoute[] = [
  { method: 'POST', path: '/gen-jwt', headers: { 'x-api-key': API_KEY }, valid: { instance_id: '123445' }, stringFields: ['instance_id'] }
]

test('body attacks on every JSON route: 4xx problems, nothing stored', async (t) => {
  const target = await hostileTarget(t)
  const cases = jsonRoutes.flatMap(bodyAttacks)
  await runHostileCases(t, target, cases)
  t.comment(`${cases.length} body cases`)
})
