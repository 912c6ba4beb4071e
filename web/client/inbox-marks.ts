import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import { MarkQueue, type MarkQueueOptions } from './mark-queue.js';
import type { ClientFrame } from './wire.js';

export type InboxMarkFrame = Extract<ClientFrame, { type: 'archive' | 'unarchive' | 'mark_seen' }>;

export type InboxMark =
  { type: 'archive' | 'unarchive'; ids: string[] } | { type: 'mark_seen'; lastId: string };

/**
 * Archive, unarchive and seen marks not acknowledged yet (mark-queue.ts: one in flight, kept until
 * `marked`, sent again or reported), with refs `i1`, `i2`… (the read marks' batcher numbers its
 * own without a letter). Unlike read marks, their order matters (an archive then an unarchive of
 * the same id): a queue, in the order made, whose neighbours of the same type merge (up to
 * MARK_READ_MAX_IDS ids); a seen mark replaces a waiting one (only the highest matters: the
 * server never moves it down); one sent again goes back first in line.
 */
export class InboxMarkQueue extends MarkQueue<InboxMark, InboxMarkFrame> {
  private readonly waiting: InboxMark[] = [];

  constructor(options: MarkQueueOptions<InboxMarkFrame>) {
    super(options, 'i');
  }

  add(mark: InboxMark): void {
    if (mark.type === 'mark_seen') {
      const index = this.waiting.findIndex((waiting) => waiting.type === 'mark_seen');
      if (index >= 0) {
        const waiting = this.waiting[index] as { lastId: string };
        if (BigInt(waiting.lastId) < BigInt(mark.lastId)) waiting.lastId = mark.lastId;
      } else this.waiting.push(mark);
    } else {
      const last = this.waiting[this.waiting.length - 1];
      if (last?.type === mark.type && last.ids.length + mark.ids.length <= MARK_READ_MAX_IDS)
        last.ids.push(...mark.ids);
      else
        for (let start = 0; start < mark.ids.length; start += MARK_READ_MAX_IDS)
          this.waiting.push({ type: mark.type, ids: mark.ids.slice(start, start + MARK_READ_MAX_IDS) });
    }
    this.flush();
  }

  protected take(): InboxMark | undefined {
    return this.waiting.shift();
  }

  protected putBack(mark: InboxMark): void {
    this.waiting.unshift(mark);
  }

  protected frameOf(mark: InboxMark, ref: string): InboxMarkFrame {
    return mark.type === 'mark_seen'
      ? { type: 'mark_seen', lastId: mark.lastId, ref }
      : { type: mark.type, ids: mark.ids, ref };
  }

  protected describe(mark: InboxMark): string {
    return `${mark.type} ${mark.type === 'mark_seen' ? mark.lastId : mark.ids.join(', ')}`;
  }
}
