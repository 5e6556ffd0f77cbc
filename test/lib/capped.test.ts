import { test } from 'tap'
import { dropOldest } from '../../lib/capped.js'

function capped (max: number): { map: Map<string, number>, set: (key: string, value?: number) => void } {
  const map = new Map<string, number>()
  return {
    map,
    set (key, value = 0) {
      map.delete(key)
      map.set(key, value)
      dropOldest(map, max)
    }
  }
}

test('dropOldest keeps the newest entries, oldest insertion out first', async (t) => {
  const { map, set } = capped(3)
  for (const key of ['a', 'b', 'c']) set(key)
  t.same([...map.keys()], ['a', 'b', 'c'], 'at the cap nothing goes')
  set('d')
  t.same([...map.keys()], ['b', 'c', 'd'])
  for (let i = 0; i < 1000; i++) set(`k${i}`)
  t.same([...map.keys()], ['k997', 'k998', 'k999'])
})

test('dropOldest evicts by the order entries were last inserted, whatever else changed the Map in between', async (t) => {
  const { map, set } = capped(4)
  for (const key of ['a', 'b', 'c', 'd']) set(key)
  set('e')
  t.same([...map.keys()], ['b', 'c', 'd', 'e'])
  set('b', 1)
  t.same([...map.keys()], ['c', 'd', 'e', 'b'], 're-inserting moves an entry to the newest end')
  set('f')
  t.same([...map.keys()], ['d', 'e', 'b', 'f'], 'the oldest is c, not the b the eviction cursor passed by')
  map.delete('d')
  map.delete('e')
  set('g')
  set('h')
  t.same([...map.keys()], ['b', 'f', 'g', 'h'], 'entries deleted by others are skipped, not counted')
  set('i')
  t.same([...map.keys()], ['f', 'g', 'h', 'i'])
  map.set('j', 0)
  map.set('k', 0)
  dropOldest(map, 2)
  t.same([...map.keys()], ['j', 'k'], 'several at once when the cap shrinks')
  map.clear()
  for (const key of ['x', 'y', 'z', 'w']) set(key)
  t.same([...map.keys()], ['x', 'y', 'z', 'w'], 'a cleared Map fills again up to the cap')
  set('v')
  t.same([...map.keys()], ['y', 'z', 'w', 'v'], 'and evicts again from its new oldest entry')
})

test('dropOldest holds each Map to its own cap, and a cap of 0 empties it', async (t) => {
  const one = capped(2)
  const two = capped(3)
  for (let i = 0; i < 10; i++) {
    one.set(`a${i}`)
    two.set(`b${i}`)
  }
  t.same([...one.map.keys()], ['a8', 'a9'])
  t.same([...two.map.keys()], ['b7', 'b8', 'b9'])
  dropOldest(two.map, 0)
  t.equal(two.map.size, 0)
  dropOldest(two.map, 0)
  t.equal(two.map.size, 0, 'nothing to evict is no error')
})

test('dropOldest at a large cap matches a plain FIFO model under mixed inserts, re-inserts and deletes', async (t) => {
  const max = 500
  const { map, set } = capped(max)
  const model: string[] = []
  let seed = 7
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let i = 0; i < 20_000; i++) {
    const key = `k${random(2000)}`
    if (random(10) === 0) {
      map.delete(key)
      const at = model.indexOf(key)
      if (at !== -1) model.splice(at, 1)
      continue
    }
    set(key)
    const at = model.indexOf(key)
    if (at !== -1) model.splice(at, 1)
    model.push(key)
    if (model.length > max) model.shift()
  }
  t.same([...map.keys()], model)
})
