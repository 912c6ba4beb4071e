import assert from 'node:assert/strict';
import type { SocketPort } from '../../server/ws/outbox.js';

/**
 * A socket port for the unit tests of the write path (the outbox, the session): it records each
 * frame and how many went out per corked write, checks that every send is corked, drops the
 * `drop`-th send (1-based) as uWS drops a frame past its hard limit while a smaller one after it
 * may still fit, reports `buffered` bytes, and keeps the close code it was ended with.
 */
export function scriptedPort({ drop = Infinity, buffered = 0 }: { drop?: number; buffered?: number } = {}) {
  const frames: string[] = [];
  const writes: number[] = [];
  let attempts = 0;
  let corked = false;
  const port: SocketPort & { closedWith?: number } = {
    corked(write) {
      corked = true;
      const before = frames.length;
      write();
      corked = false;
      writes.push(frames.length - before);
    },
    send(frame) {
      assert.ok(corked, 'frames are sent under cork');
      attempts += 1;
      if (attempts === drop) return false;
      frames.push(String(frame));
      return true;
    },
    bufferedAmount: () => buffered,
    end(code) {
      port.closedWith = code;
    },
  };
  return { port, frames, writes };
}
