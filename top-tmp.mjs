import { readFileSync } from 'node:fs'
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const byId = new Map(p.nodes.map(n => [n.id, n]))
const counts = new Map(); for (const s of p.samples) counts.set(s, (counts.get(s) ?? 0) + 1)
const self = new Map(); let total = 0
for (const [id, c] of counts) { const n = byId.get(id); const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/work\/main\//,'')}:${cf.lineNumber}`; self.set(k, (self.get(k) ?? 0) + c); total += c }
// inclusive per function
const parent = new Map(); for (const n of p.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id)
const incl = new Map()
for (const [id, c] of counts) { const seen = new Set(); let cur = id; while (cur !== undefined) { const cf = byId.get(cur).callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/work\/main\//,'')}:${cf.lineNumber}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + c) } cur = parent.get(cur) } }
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}% ${k}`).join('\n')
console.log('SELF\n' + top(self, Number(process.argv[3] ?? 35)))
console.log('INCLUSIVE\n' + top(incl, Number(process.argv[4] ?? 60)))
