import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiError } from '../../src/errors.js';
import { encodeCursor, parseInstant, toHistoryQuery } from '../../src/http/history-query.js';

describe('parseInstant', () => {
  it('normalizes ISO 8601 dates and date-times to UTC with milliseconds', () => {
    assert.equal(parseInstant('2026-11-26'), '2026-11-26T00:00:00.000Z');
    assert.equal(parseInstant('2026-11-26T08:30'), '2026-11-26T08:30:00.000Z');
    assert.equal(parseInstant('2026-11-26T08:30:15Z'), '2026-11-26T08:30:15.000Z');
    assert.equal(parseInstant('2026-11-26T08:30:15.123456'), '2026-11-26T08:30:15.123Z');
    assert.equal(parseInstant('2026-11-26T08:30:15+02:00'), '2026-11-26T06:30:15.000Z');
    assert.equal(parseInstant('2026-11-26T01:00:00-0130'), '2026-11-26T02:30:00.000Z');
    assert.equal(parseInstant('2024-02-29'), '2024-02-29T00:00:00.000Z');
  });
  it('takes a date alone as the end of that day when asked (an inclusive until), and nothing else', () => {
    assert.equal(parseInstant('2026-11-26', { endOfDay: true }), '2026-11-26T23:59:59.999Z');
    assert.equal(parseInstant('2024-12-31', { endOfDay: true }), '2024-12-31T23:59:59.999Z');
    assert.equal(parseInstant('2026-11-26T00:00', { endOfDay: true }), '2026-11-26T00:00:00.000Z');
    assert.equal(parseInstant('2026-11-26T08:30:15.5+02:00', { endOfDay: true }), '2026-11-26T06:30:15.500Z');
  });
  it('refuses what is not a real instant', () => {
    for (const bad of ['', 'garbage', '2026-13-01', '2026-02-29', '2026-11-31', '2026-11-26T24:00', '2026-11-26T10:60', '26-11-2026', '1700000000', '2026-11-26T10:00+25:00', '0099-01-01']) {
      assert.equal(parseInstant(bad), undefined, bad);
    }
  });
});

describe('toHistoryQuery', () => {
  it('maps parameters to store filters', () => {
    assert.deepEqual(toHistoryQuery({ sensor_id: 's', prediction: 'Leak', severity: 'high', since: '2026-01-01', until: '2026-01-02', limit: 3 }), {
      sensorIds: ['s'], prediction: 'Leak', severity: 'high', since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T23:59:59.999Z', limit: 3,
    });
    assert.deepEqual(toHistoryQuery({}), {});
    assert.deepEqual(toHistoryQuery({ sensor_id: ['a', 'b', 'a'], order: 'desc' }), { sensorIds: ['a', 'b'], order: 'desc' });
  });
  it('round-trips a cursor, whose order wins and must agree with order=', () => {
    assert.deepEqual(toHistoryQuery({ cursor: encodeCursor('desc', 42), limit: 5 }), { limit: 5, order: 'desc', after: 42 });
    assert.deepEqual(toHistoryQuery({ cursor: encodeCursor('asc', 7), order: 'asc' }), { order: 'asc', after: 7 });
    assert.throws(() => toHistoryQuery({ cursor: encodeCursor('asc', 7), order: 'desc' }), (e: ApiError) => e.statusCode === 400 && /'cursor'/.test(e.message));
    for (const bad of ['', 'zzz', '!!', Buffer.from('x9').toString('base64url'), Buffer.from('a99999999999999999').toString('base64url')]) {
      assert.throws(() => toHistoryQuery({ cursor: bad }), (e: ApiError) => e.code === 'invalid_parameter', bad);
    }
  });
  it('finds the model\'s label for a prediction filter in another case, and passes other values through', () => {
    const labels = ['Normal', 'Leak'];
    assert.equal(toHistoryQuery({ prediction: 'leak' }, labels).prediction, 'Leak');
    assert.equal(toHistoryQuery({ prediction: 'NORMAL' }, labels).prediction, 'Normal');
    assert.equal(toHistoryQuery({ prediction: 'Leak' }, labels).prediction, 'Leak');
    // Records from an earlier model may carry other labels: still found by their exact text.
    assert.equal(toHistoryQuery({ prediction: 'gas' }, labels).prediction, 'gas');
    assert.equal(toHistoryQuery({ prediction: 'leak' }).prediction, 'leak');
  });
  it('lets since and until name the same day', () => {
    assert.deepEqual(toHistoryQuery({ since: '2026-11-27', until: '2026-11-27' }), { since: '2026-11-27T00:00:00.000Z', until: '2026-11-27T23:59:59.999Z' });
  });
  it('throws a 400 ApiError for bad dates and since after until', () => {
    assert.throws(() => toHistoryQuery({ since: 'nope' }), (e: ApiError) => e.statusCode === 400 && e.code === 'invalid_parameter' && /'since'/.test(e.message));
    assert.throws(() => toHistoryQuery({ since: '2026-02-01', until: '2026-01-01' }), (e: ApiError) => e.statusCode === 400);
  });
});
