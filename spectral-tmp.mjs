import { readFileSync } from 'node:fs'
import spectralCore from '@stoplight/spectral-core'
import Parsers from '@stoplight/spectral-parsers'
import { oas } from '@stoplight/spectral-rulesets'
const { Spectral, Document } = spectralCore
const spectral = new Spectral()
spectral.setRuleset({ extends: [oas] })
const doc = new Document(readFileSync(process.argv[2], 'utf8'), Parsers.Yaml, process.argv[2])
const results = await spectral.run(doc)
for (const r of results) console.log(r.severity, r.code, r.path.join('.'), r.message)
console.log(results.length, 'results')
