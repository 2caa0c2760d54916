import { expect, test } from 'bun:test'
import { SingleFlight } from '../../../src/stores/redis/single-flight.ts'

test('concurrent reads of one key share one read; another key reads on its own', async () => {
  const flight = new SingleFlight<string>()
  let reads = 0
  const read = (v: string) => async () => {
    reads++
    await Bun.sleep(5)
    return v
  }
  const results = await Promise.all([flight.run('a', read('A')), flight.run('a', read('X')), flight.run('b', read('B'))])
  expect(results).toEqual(['A', 'A', 'B'])
  expect(reads).toBe(2)
  // Done reads are not kept: the next one reads again.
  expect(await flight.run('a', read('A2'))).toBe('A2')
  expect(reads).toBe(3)
})

test('after a change, a read in flight is not joined and may not fill a cache; a failed read is not kept', async () => {
  const flight = new SingleFlight<string>()
  const epoch = flight.epoch
  const first = flight.run('a', async () => {
    await Bun.sleep(10)
    return 'old'
  })
  flight.changed()
  expect(flight.current(epoch)).toBe(false)
  const second = flight.run('a', async () => 'new')
  expect(await Promise.all([first, second])).toEqual(['old', 'new'])
  // The first read's end does not forget a later read of the same key.
  const slow = flight.run('a', async () => {
    await Bun.sleep(10)
    return 'later'
  })
  expect(await flight.run('a', async () => 'joined?')).toBe('later')
  await slow
  await expect(flight.run('c', async () => Promise.reject(new Error('away')))).rejects.toThrow('away')
  expect(await flight.run('c', async () => 'back')).toBe('back')
})
