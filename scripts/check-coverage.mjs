// tap 21 enforces 100% or nothing; this holds the suite to the explicit thresholds in
// package.json "config.coverageThresholds" instead, reading tap's json-summary report.
import { readFileSync } from 'node:fs'

const { config } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const summary = JSON.parse(readFileSync(new URL('../.tap/report/coverage-summary.json', import.meta.url), 'utf8'))
const failures = []
for (const [metric, threshold] of Object.entries(config.coverageThresholds)) {
  const pct = summary.total[metric].pct
  const line = `${metric.padEnd(10)} ${String(pct).padStart(6)}% (threshold ${threshold}%)`
  if (pct < threshold) failures.push(line)
  process.stdout.write(`coverage ${line}\n`)
}
if (failures.length > 0) {
  process.stderr.write(`Coverage below threshold:\n  ${failures.join('\n  ')}\n`)
  process.exit(1)
}
