import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDateTime, formatDuration, formatRelative } from './dates'

test('absolute times read the same everywhere, in UTC', () => {
  assert.equal(formatDateTime(new Date('2026-11-29T02:06:59Z')), '29 Nov 2026, 02:06 UTC')
  assert.equal(formatDateTime('2026-01-03T23:00:00Z'), '3 Jan 2026, 23:00 UTC')
})

test('absolute times are written exactly as Intl writes them (en-GB, UTC), every month, hour and minute', () => {
  const intl = new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  })
  for (let month = 0; month < 12; month++) {
    for (const day of [1, 9, 10, 28]) {
      for (const [hour, minute] of [
        [0, 0],
        [9, 5],
        [12, 30],
        [23, 59],
      ] as const) {
        const date = new Date(Date.UTC(2026, month, day, hour, minute, 42, 999))
        assert.equal(formatDateTime(date), `${intl.format(date)} UTC`)
        assert.equal(formatDateTime(date.getTime()), `${intl.format(date)} UTC`)
        assert.equal(formatDateTime(date.toISOString()), `${intl.format(date)} UTC`)
      }
    }
  }
  for (const date of [
    new Date('0999-03-04T05:06:00Z'),
    new Date('2000-02-29T00:00:00Z'),
    new Date('-000010-01-01T00:00:00Z'),
    new Date(8.64e15),
  ]) {
    assert.equal(formatDateTime(date), `${intl.format(date)} UTC`)
  }
  assert.throws(() => formatDateTime('not a date'), RangeError)
})

test('relative times use the largest whole unit', () => {
  const now = new Date('2026-11-29T02:00:00Z')
  assert.equal(formatRelative(new Date('2026-11-29T02:59:30Z'), now), 'in 59 minutes')
  assert.equal(formatRelative(new Date('2026-11-29T01:00:00Z'), now), '1 hour ago')
  assert.equal(formatRelative(new Date('2026-11-28T02:00:00Z'), now), 'yesterday')
  assert.equal(formatRelative(new Date('2026-11-29T02:00:20Z'), now), 'in 20 seconds')
  assert.equal(formatRelative(now, now), 'now')
})

test('durations in words', () => {
  assert.equal(formatDuration(3600), '1 hour')
  assert.equal(formatDuration(5400), '1 hour 30 minutes')
  assert.equal(formatDuration(60), '1 minute')
  assert.equal(formatDuration(31_536_000), '1 year')
  assert.equal(formatDuration(45), '45 seconds')
})
