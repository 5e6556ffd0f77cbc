import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SETTINGS } from '../lib/settings.js'
import type { Condition, Setting } from '../lib/settings.js'

const START = '<!-- settings:start (generated from lib/settings.ts by `npm run docs:settings`; do not edit) -->'
const END = '<!-- settings:end -->'
export const SETTINGS_PAGE = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))

const conditionText = (condition: Condition): string => Object.entries(condition)
  .map(([name, value]) => value === null ? `${name} is unset` : `${name}=${Array.isArray(value) ? value.join(' or ') : String(value)}`)
  .join(' and ')

function rules (spec: Setting<unknown>): string[] {
  const out: string[] = []
  if (spec.generate !== undefined) out.push(spec.generate.when === undefined ? 'generated in development' : `generated in development when ${conditionText(spec.generate.when)}`)
  if (spec.requiredWhen !== undefined) out.push(`required when ${conditionText(spec.requiredWhen)}`)
  const production = spec.production
  if (production?.required === true) out.push('**required in production**')
  else if (production?.required !== undefined) out.push(`**required in production** when ${conditionText(production.required)}`)
  if (production?.refuse !== undefined) out.push(`production refuses ${production.refuse.values.map((v) => `\`${v}\``).join(', ')}`)
  if (production?.https === true) out.push('https only in production')
  if (production?.atLeast !== undefined) out.push(`at least ${production.atLeast} in production`)
  return out
}

const cell = (text: string): string => text.replaceAll('|', '\\|')

/** The settings tables, one per group, in the table's order. */
export function renderSettingsTables (): string {
  const groups = new Map<string, string[]>()
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[string, Setting<unknown>]>) {
    const rows = groups.get(spec.group) ?? []
    const notes = [spec.doc, ...rules(spec)].join('; ')
    rows.push(`| \`${name}\` | ${cell(spec.shown === '' ? 'unset' : spec.shown)} | ${cell(spec.form)} | ${cell(notes)} |`)
    groups.set(spec.group, rows)
  }
  const sections = [...groups].map(([group, rows]) => [`### ${group}`, '', '| name | default | value | notes |', '|---|---|---|---|', ...rows].join('\n'))
  return [START, '', ...sections.flatMap((section) => [section, '']), END].join('\n')
}

/** docs/configuration.md with its generated section replaced by the current tables. */
export function renderSettingsPage (page: string): string {
  const start = page.indexOf(START)
  const end = page.indexOf(END)
  if (start === -1 || end < start) throw new Error(`${SETTINGS_PAGE} lacks the settings markers`)
  return page.slice(0, start) + renderSettingsTables() + page.slice(end + END.length)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SETTINGS_PAGE, renderSettingsPage(readFileSync(SETTINGS_PAGE, 'utf8')))
  process.stdout.write(`wrote ${SETTINGS_PAGE}\n`)
}
