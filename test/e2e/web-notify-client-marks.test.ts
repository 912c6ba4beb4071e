import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useFakeSocketPage } from '../support/fake-socket-page.js';

/**
 * The client library's marks, in Chromium, against a scripted server: queued while disconnected
 * and sent as one message once back; each kept until acknowledged, one batch at a time, sent again
 * when refused or lost with the socket.
 */

const { run, until, state, socket } = useFakeSocketPage();

describe('the client library marks', () => {
  it('queues marks while disconnected and sends them once the socket is back, as one message', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(
      `window.client.markRead(['3', 'nope']); window.client.markRead(['4']); window.client.markRead(['3'])`,
    );
    await run(`${socket(0)}.accept()`);
    assert.deepEqual((await state()).sent[0], [{ type: 'mark_read', ids: ['3', '4'], ref: '1' }]);
    // A mark of everything covers the ids marked before it.
    await run(
      `window.client.markRead(['5']); window.client.markAllRead(); ${socket(0)}.frame({ type: 'marked', ref: '1' })`,
    );
    assert.deepEqual((await state()).sent[0], [
      { type: 'mark_read', ids: ['3', '4'], ref: '1' },
      { type: 'mark_all_read', ref: '2' },
    ]);
    assert.deepEqual(await run(`fake.reads`), [
      { ids: ['3'] },
      { ids: ['4'] },
      { ids: ['3'] },
      { ids: ['5'] },
      { all: true },
    ]);
  });

  it('keeps each mark until acknowledged: one batch at a time, sent again when refused or lost with the socket', async () => {
    await run(`start()`);
    await until(`fake.sockets.length === 1`);
    await run(`${socket(0)}.accept(); window.client.markRead(['1']); window.client.markRead(['2'])`);
    // One batch in flight: the second mark waits for the first's answer.
    assert.deepEqual((await state()).sent[0], [{ type: 'mark_read', ids: ['1'], ref: '1' }]);
    // Refused over the rate limit (the server names no ref then): sent again after a delay, with the one waiting.
    await run(
      `${socket(0)}.frame({ type: 'error', code: 'rate_limited', message: 'Too many messages: slow down' })`,
    );
    await until(`fake.sockets[0].sent.length === 2`);
    assert.deepEqual((await state()).sent[0]![1], { type: 'mark_read', ids: ['2', '1'], ref: '2' });
    // Lost with the socket before its answer: sent on the next one.
    await run(`${socket(0)}.drop(1006)`);
    await until(`fake.sockets.length === 2`);
    await run(`${socket(1)}.accept()`);
    assert.deepEqual((await state()).sent[1], [{ type: 'mark_read', ids: ['2', '1'], ref: '3' }]);
    // Refused for good (its ref named): reported with the ids, not retried.
    await run(
      `${socket(1)}.frame({ type: 'error', code: 'validation_failed', message: 'ids: bad', ref: '3' })`,
    );
    const now = await state();
    assert.equal(now.sent[1]!.length, 1);
    assert.deepEqual(
      now.errors.map(({ code, fatal }) => ({ code, fatal })),
      [
        { code: 'rate_limited', fatal: false },
        { code: 'validation_failed', fatal: false },
        { code: 'mark_failed', fatal: false },
      ],
    );
    assert.match(JSON.stringify(now.errors.at(-1)), /2, 1/);
  });
});
