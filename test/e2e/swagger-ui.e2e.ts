import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { chromium } from 'playwright-core'
import type { BrowserContext, Locator, Page } from 'playwright-core'
import { build } from '../../app.js'
import { API_KEY, testConfig } from '../helper.js'

// Debian's chromium; CHROMIUM_PATH points elsewhere when a machine keeps it somewhere else.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SCREENSHOTS = join(process.cwd(), 'test-results')
const STEP_TIMEOUT_MS = 15_000
// A LAN-style host name over plain HTTP, as on a dev VM or a container host: Chromium resolves it to loopback.
const HOST_NAME = 'docs.tokenmint.test'

async function launchBrowser (): Promise<{ context: BrowserContext, close: () => Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'tokenmint-e2e-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    // No network beyond loopback on CI machines: nothing may phone home or wait for it.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${HOST_NAME} 127.0.0.1`]
  })
  context.setDefaultTimeout(STEP_TIMEOUT_MS)
  return {
    context,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

/** Opens the Authorize dialog, fills one scheme's value, applies it and closes the dialog. */
async function authorize (page: Page, scheme: 'apiKey' | 'bearerAuth', value: string): Promise<string> {
  await page.locator('.auth-wrapper button.authorize').click()
  const modal = page.locator('.modal-ux')
  const form = modal.locator('.auth-container').filter({ has: page.locator('h4', { hasText: scheme }) })
  // A scheme that is already authorized shows Logout; log out first, as a person replacing a token does.
  const logout = form.locator('button', { hasText: 'Logout' })
  if (await logout.isVisible()) await logout.click()
  await form.locator('input').fill(value)
  await form.locator('button.authorize').click()
  const state = await form.innerText()
  await modal.locator('button.btn-done').first().click()
  await modal.waitFor({ state: 'detached' })
  return state
}

/** Expands an operation and makes sure "Try it out" is on. */
async function openOperation (page: Page, id: string): Promise<Locator> {
  const operation = page.locator(`#${id}`)
  if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').click()
  const tryItOut = operation.locator('button.try-out__btn', { hasText: 'Try it out' })
  if (await tryItOut.isVisible()) await tryItOut.click()
  await operation.locator('button.execute').waitFor()
  return operation
}

interface Rendered { status: number, body: string, curl: string }

/** Clicks Execute and reads what Swagger UI rendered: the live response's status and body text. */
async function execute (operation: Locator): Promise<Rendered> {
  const live = operation.locator('.live-responses-table')
  if (await live.isVisible()) await operation.locator('button.btn-clear').click()
  await operation.locator('button.execute').click()
  const row = live.locator('tr.response').first()
  await row.waitFor()
  return {
    status: Number(await row.locator('.response-col_status').innerText()),
    body: await row.locator('.highlight-code code').first().innerText(),
    curl: await operation.locator('.curl-command .curl').innerText()
  }
}

test('Swagger UI over plain HTTP on a non-localhost host name: a developer authorizes, mints tokens and reads them back through /v1/me', async (t) => {
  const app = await build({ config: testConfig() })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://${HOST_NAME}:${(app.server.address() as { port: number }).port}`

  const { context, close } = await launchBrowser()
  t.teardown(close)
  const page = context.pages()[0] ?? await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (error) => { pageErrors.push(error.message) })

  let step = 'open /docs'
  try {
    await page.goto(`${base}/docs`)
    await page.locator('#operations-mobile-genJwt').waitFor()
    t.equal(await page.locator('.info .title').first().innerText().then((s) => s.split('\n')[0]?.trim()), 'tokenmint', 'the UI shows the API title')

    step = 'authorize with the API key'
    t.match(await authorize(page, 'apiKey', API_KEY), /Authorized/, 'Authorize accepts the API key')

    step = 'POST /gen-jwt with the device-bound example'
    const genJwt = await openOperation(page, 'operations-mobile-genJwt')
    const examples = genJwt.locator('.examples-select select')
    t.same(await examples.locator('option').allInnerTexts(),
      ['Device-bound token (recommended)', 'Generic token for this API client', 'Token bound to a device key (DPoP)'], 'every request example is offered')
    await examples.selectOption({ label: 'Device-bound token (recommended)' })
    const bodyEditor = genJwt.locator('.body-param textarea')
    t.same(JSON.parse(await bodyEditor.inputValue()), { instance_id: '123445' }, 'the example fills the body editor')
    const bound = await execute(genJwt)
    t.equal(bound.status, 200, 'Execute answers 200')
    t.match(bound.curl, `-H 'X-API-Key: ${API_KEY}'`, 'the request carried the API key')
    const boundBody = JSON.parse(bound.body) as Record<string, unknown>
    t.match(boundBody, { token: /^[\w-]+\.[\w-]+\.[\w-]+$/, token_type: 'Bearer', expires_in: 300, instance_id: '123445' },
      'the rendered response holds a device-bound token')

    step = 'authorize with the device-bound token'
    t.match(await authorize(page, 'bearerAuth', String(boundBody.token)), /Authorized/, 'Authorize accepts the token')

    step = 'GET /v1/me without X-Instance-Id'
    const me = await openOperation(page, 'operations-mobile-me')
    const instanceHeader = me.locator('tr[data-param-name="x-instance-id"] input')
    t.ok(await instanceHeader.isVisible(), 'the X-Instance-Id header has a field')
    t.ok(await me.locator('tr[data-param-name="dpop"] input').isVisible(), 'and so has the DPoP proof header')
    const refused = await execute(me)
    t.equal(refused.status, 401, 'a device-bound token without its instance id is refused')
    t.match(JSON.parse(refused.body), { code: 'device_mismatch', status: 401 }, 'the problem is rendered')

    step = 'GET /v1/me with X-Instance-Id'
    await instanceHeader.fill('123445')
    const claims = await execute(me)
    t.equal(claims.status, 200, '/v1/me answers 200')
    t.match(claims.curl, `-H 'Authorization: Bearer ${String(boundBody.token)}'`, 'Swagger UI sent the token as a Bearer token')
    t.match(claims.curl, "-H 'x-instance-id: 123445'", 'and the instance id header')
    t.match(JSON.parse(claims.body), { sub: 'instance:123445', instance_id: '123445', iat: Number, exp: Number, jti: String },
      'the claims are displayed')

    step = 'POST /gen-jwt with the generic example'
    await examples.selectOption({ label: 'Generic token for this API client' })
    t.same(JSON.parse(await bodyEditor.inputValue()), {}, 'the generic example is {}')
    const generic = await execute(genJwt)
    t.equal(generic.status, 200, 'Execute answers 200')
    const genericBody = JSON.parse(generic.body) as Record<string, unknown>
    t.match(genericBody, { token: String, token_type: 'Bearer', expires_in: 300 }, 'a generic token is rendered')
    t.notOk('instance_id' in genericBody, 'the generic token is not bound to an instance')

    step = 'GET /v1/me with the generic token'
    t.match(await authorize(page, 'bearerAuth', String(genericBody.token)), /Authorized/, 'Authorize accepts the generic token')
    await instanceHeader.fill('')
    const genericClaims = await execute(me)
    t.equal(genericClaims.status, 200, '/v1/me answers 200 without X-Instance-Id')
    const shown = JSON.parse(genericClaims.body) as Record<string, unknown>
    t.match(shown, { sub: /^client:[0-9a-f]{12}$/, jti: String }, 'the generic claims are displayed')
    t.notOk('instance_id' in shown, 'no instance_id claim')

    t.same(pageErrors, [], 'the page threw no script errors')
  } catch (error) {
    t.fail(`step "${step}": ${(error as Error).message}`)
  } finally {
    if (!t.passing()) {
      await mkdir(SCREENSHOTS, { recursive: true })
      const file = join(SCREENSHOTS, `swagger-ui-${step.replace(/[^a-z0-9]+/gi, '-')}.png`)
      await page.screenshot({ path: file, fullPage: true })
      t.comment(`screenshot: ${file}`)
    }
  }
})
