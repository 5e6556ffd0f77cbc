import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { buildTestApp, json } from '../helper.js'
import { renderOpenApi } from '../../scripts/openapi.js'
import { docsCsp } from '../../plugins/swagger.js'
import { VERSION } from '../../lib/version.js'

const committed = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')

test('openapi.yaml is exactly what the app generates (run `npm run openapi` after changing routes)', async (t) => {
  t.equal(await renderOpenApi(), committed)
})

test('Swagger UI and the OpenAPI document are served under /docs', async (t) => {
  const app = await buildTestApp(t)
  const ui = await app.inject({ url: '/docs' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
  t.match(ui.body, /Swagger UI/)
  // The served copy differs in one place: its server is the address Swagger UI was loaded from, so Try it out calls it.
  const expected = { ...parseYaml(committed) as Record<string, unknown>, servers: [{ url: 'http://localhost:80', description: 'This service' }] }
  const document = json(await app.inject({ url: '/docs/json' }))
  t.same(document, expected, '/docs/json has the content of openapi.yaml')
  const yaml = await app.inject({ url: '/docs/yaml' })
  t.same(parseYaml(yaml.body), expected, '/docs/yaml too')
  t.same(json(await app.inject({ url: '/docs/json', headers: { host: 'tokens.internal:8443' } })).servers, [{ url: 'http://tokens.internal:8443', description: 'This service' }])
  const behindProxy = await buildTestApp(t, { env: { PUBLIC_URL: 'https://auth.example.com' } })
  t.same(json(await behindProxy.inject({ url: '/docs/json' })).servers, [{ url: 'https://auth.example.com', description: 'This service' }], 'PUBLIC_URL wins')
  t.match(committed, /servers:\n {2}- url: http:\/\/127\.0\.0\.1:3000/, 'the committed document names the development address')
  const initializer = await app.inject({ url: '/docs/static/swagger-initializer.js' })
  t.match(initializer.body, /"persistAuthorization":true/, 'authorisations survive a reload')
})

interface Operation {
  tags?: string[]
  summary?: string
  security?: Array<Record<string, unknown>>
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
  requestBody?: { content: Record<string, { schema: { $ref?: string }, examples?: Record<string, { value: unknown }> }> }
}

test('the document declares both security schemes, named components and tryable examples', async (t) => {
  const document = parseYaml(committed) as {
    components: { securitySchemes: Record<string, Record<string, string>>, schemas: Record<string, unknown> }
    paths: Record<string, Record<string, Operation>>
  }
  t.same(document.components.securitySchemes.apiKey, { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Server-to-server API key (API_KEYS)' })
  t.match(document.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  for (const name of ['Problem', 'GenJwtRequest', 'TokenResponse', 'MeResponse']) t.ok(document.components.schemas[name], `component ${name}`)
  t.notMatch(committed, /def-\d+/, 'no anonymous def-N components')

  const genJwt = document.paths['/gen-jwt']?.post
  t.same(genJwt?.security, [{ apiKey: [] }])
  t.same(genJwt?.requestBody?.content['application/json']?.examples?.device_bound?.value, { instance_id: '123445' })
  t.same(genJwt?.requestBody?.content['application/json']?.examples?.generic?.value, {})

  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      t.ok(operation.tags?.length, `${method} ${path} has a tag`)
      t.ok(operation.summary, `${method} ${path} has a summary`)
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) t.match(response.content?.['application/problem+json']?.schema?.$ref, /^#\/components\/schemas\/\w*Problem$/, `${method} ${path} ${status} is a Problem`)
      }
      if (operation.security !== undefined) t.ok(operation.responses['401'], `${method} ${path} documents its 401`)
    }
  }
})

test('the docs CSP: @fastify/swagger-ui\'s hashes, and upgrade-insecure-requests only over HTTPS', async (t) => {
  const app = await buildTestApp(t, { env: { TRUST_PROXY: '127.0.0.1' } })
  const plain = await app.inject({ url: '/docs/', headers: { host: 'devbox.lan:3000' } })
  t.equal(plain.statusCode, 200)
  const policy = String(plain.headers['content-security-policy'])
  t.notMatch(policy, 'upgrade-insecure-requests', 'plain HTTP on a LAN name keeps its assets on http')
  t.match(policy, /script-src 'self'[;' ]/, 'scripts from the service itself (plus any hash @fastify/swagger-ui lists)')
  t.notMatch(policy, 'unsafe', 'nothing inline or eval is allowed')
  t.match(policy, "object-src 'none'")
  t.equal(policy, docsCsp(app.swaggerCSP, false))
  const behindTls = await app.inject({ url: '/docs/', headers: { 'x-forwarded-proto': 'https' } })
  t.match(String(behindTls.headers['content-security-policy']), /; upgrade-insecure-requests;$/, 'served over HTTPS (a trusted proxy says so): upgraded')
})

test('package.json, the OpenAPI info and /health carry one version', async (t) => {
  const app = await buildTestApp(t)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(VERSION, pkg.version)
  t.equal((app.swagger() as { info: { version: string } }).info.version, pkg.version)
  t.equal(json(await app.inject({ url: '/health/live' })).version, pkg.version)
  t.match(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'), `version: ${pkg.version}`)
  t.match(readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8'), `## ${pkg.version}`, 'the changelog has this release')
})
