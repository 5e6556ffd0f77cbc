import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))]

test('the README and docs/ link only to files inside the repository, and every link resolves', async (t) => {
  t.ok(pages.length >= 10, `${pages.length} pages`)
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8')
    t.notMatch(text, /\.\.\/shared|contract\.md/, `${page} does not send readers to a file a clone lacks`)
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      t.notMatch(target, /^[a-z]+:/i, `${page}: ${target} stays inside the repository`)
      const path = resolve(dirname(join(root, page)), target.split('#')[0] ?? '')
      t.ok(existsSync(path) && !relative(root, path).startsWith('..'), `${page}: ${target} exists in the repository`)
    }
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  t.ok(readme.indexOf('npm install && npm start') < readme.indexOf('npm test'), 'the README shows the two commands first')
  t.ok(readme.split('\n').length < 120, 'the README stays short: the detail lives in docs/')
})
