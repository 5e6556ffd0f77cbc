import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { renderClientTypes } from '../../scripts/client-types.js'

test('client/openapi-types.ts is exactly what openapi-typescript generates from openapi.yaml (run `npm run client:types`)', async (t) => {
  const committed = readFileSync(new URL('../../client/openapi-types.ts', import.meta.url), 'utf8')
  t.equal(await renderClientTypes(), committed)
})

test('the generator sees a change in the document, so the drift check can fail', async (t) => {
  const yaml = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')
  const changed = await renderClientTypes(yaml.replace('      title: MeResponse\n', '      title: MeResponse\n      description: changed\n'))
  t.not(changed, await renderClientTypes(yaml))
  t.match(changed, /changed/)
})
