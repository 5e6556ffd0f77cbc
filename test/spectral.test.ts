import { readFileSync } from 'node:fs'
import { test } from 'tap'
import spectralCore from '@stoplight/spectral-core'
import Parsers from '@stoplight/spectral-parsers'
import { oas } from '@stoplight/spectral-rulesets'
import { renderOpenApi } from '../scripts/openapi.js'

const { Document, Spectral } = spectralCore

async function lint (yaml: string, name: string): Promise<string[]> {
  const spectral = new Spectral()
  // spectral:oas, as `extends: spectral:oas` in a .spectral.yaml: its recommended rules.
  spectral.setRuleset({ extends: [oas as never] } as never)
  const results = await spectral.run(new Document(yaml, Parsers.Yaml, name))
  return results.map((result) => `${['error', 'warning', 'info', 'hint'][result.severity] ?? result.severity} ${result.code} ${result.path.join('.')}: ${result.message}`)
}

test("Spectral's spectral:oas ruleset reports nothing on openapi.yaml", async (t) => {
  const findings = await lint(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'), 'openapi.yaml')
  t.same(findings, [], findings.join('\n'))
})

test('nor on the document served with every optional route on (Flowroute mount, public App Verify, Twilio status callbacks)', async (t) => {
  const yaml = await renderOpenApi({
    FLOWROUTE_COMPAT: 'true',
    APPVERIFY_PUBLIC: 'true',
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_FROM: '+15005550006',
    PUBLIC_URL: 'https://tokens.example.com'
  })
  const findings = await lint(yaml, 'served.yaml')
  t.same(findings, [], findings.join('\n'))
  t.match(yaml, /operationId: flowrouteCreate/)
  t.match(yaml, /operationId: twilioStatusCallback/)
})

test('nor with Flowroute as the provider (its delivery receipt route)', async (t) => {
  const yaml = await renderOpenApi({
    SMS_PROVIDER: 'flowroute',
    FLOWROUTE_ACCESS_KEY: 'access',
    FLOWROUTE_SECRET_KEY: 'secret',
    FLOWROUTE_NUMBER: '12065550100',
    PUBLIC_URL: 'https://tokens.example.com'
  })
  const findings = await lint(yaml, 'flowroute.yaml')
  t.same(findings, [], findings.join('\n'))
  t.match(yaml, /operationId: flowrouteDeliveryReceipt/)
})

test('a finding is reported (the check can fail)', async (t) => {
  const findings = await lint('openapi: 3.0.3\ninfo: { title: x, version: "1" }\npaths:\n  /a:\n    get:\n      responses:\n        "200": { description: ok }\n', 'broken.yaml')
  t.ok(findings.some((finding) => finding.includes('operation-operationId')))
  t.ok(findings.some((finding) => finding.includes('info-contact')))
})
