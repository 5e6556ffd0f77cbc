import { test } from 'tap'
import { FloodGuard } from '../../lib/flood-guard.js'

function clock (): { now: () => number, at: (ms: number) => void } {
  let time = 0
  return { now: () => time, at: (ms) => { time = ms } }
}

test('the flood guard counts each key in fixed windows and answers the seconds left past the limit', async (t) => {
  const { now, at } = clock()
  const guard = new FloodGuard(2, 10_000, 100, now)
  t.equal(guard.hit('a'), undefined)
  t.equal(guard.hit('a'), undefined)
  at(2_500)
  t.equal(guard.hit('a'), 8, 'the third request in the window is over: 7.5 s left, rounded up')
  t.equal(guard.hit('b'), undefined, 'other keys have their own window')
  at(9_999)
  t.equal(guard.hit('a'), 1, 'never less than a second')
  at(10_000)
  t.equal(guard.hit('a'), undefined, 'a new window at its end')
})

test('past maxKeys the ended windows go first, then the oldest live ones, and a renewed window counts as new', async (t) => {
  const { now, at } = clock()
  const guard = new FloodGuard(1, 10, 2, now)
  guard.hit('a')
  at(5)
  guard.hit('b')
  at(12)
  guard.hit('a') // a's window ended at 10: renewed until 22, now newer than b's (ends at 15)
  at(13)
  guard.hit('c') // at the cap: b goes, the window that started first
  t.equal(guard.hit('a'), 1, 'a is still counted (second request in its window)')
  t.equal(guard.hit('b'), undefined, 'b was dropped: its next request starts a new window')

  const flood = new FloodGuard(1, 60_000, 3, now)
  for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) flood.hit(key)
  t.equal(flood.hit('k5'), 60, 'the newest keys are remembered')
  t.equal(flood.hit('k4'), 60)
  t.equal(flood.hit('k1'), undefined, 'the oldest were dropped')
})

test('the flood guard holds at most maxKeys windows while every window is live: the newest', async (t) => {
  const { now } = clock()
  const guard = new FloodGuard(1, 60_000, 1_000, now)
  for (let i = 0; i < 5_000; i++) guard.hit(`address-${i}`)
  let remembered = 0
  for (let i = 4_000; i < 5_000; i++) if (guard.hit(`address-${i}`) !== undefined) remembered++
  t.equal(remembered, 1_000, 'the 1,000 newest are counted')
  t.equal(guard.hit('address-3999'), undefined, 'the one before them was dropped')
})
