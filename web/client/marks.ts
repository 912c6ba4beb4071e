import { MARK_READ_MAX_IDS } from '../../domain/limits.js';
import { MarkQueue, type MarkQueueOptions } from './mark-queue.js';
import type { ClientFrame } from './wire.js';

export type MarkFrame = Extract<ClientFrame, { type: 'mark_read' | 'mark_all_read' }>;

/** A batch of read marks: some ids, or everything. */
type ReadBatch = { all: false; ids: string[] } | { all: true };

/**
 * Read marks not acknowledged yet (mark-queue.ts: one batch in flight, kept until `marked`, sent
 * again or reported): ids waiting to be sent, or a mark of everything, which covers them. Their
 * order does not matter (a read mark is never undone): the waiting ids are a set, sent as one
 * batch of up to MARK_READ_MAX_IDS; refs are bare numbers (`1`, `2`…).
 */
export class MarkBatcher extends MarkQueue<ReadBatch, MarkFrame> {
  private readonly waiting = new Set<string>();
  private waitingAll = false;

  constructor(options: MarkQueueOptions<MarkFrame>) {
    super(options, '');
  }

  /** Ids to mark read (valid notification ids only: the server refuses a whole batch for one). */
  add(ids: readonly string[]): void {
    for (const id of ids) this.waiting.add(id);
    this.flush();
  }

  addAll(): void {
    // Everything, ids marked before included.
    this.waiting.clear();
    this.waitingAll = true;
    this.flush();
  }

  protected take(): ReadBatch | undefined {
    if (this.waitingAll) {
      this.waitingAll = false;
      return { all: true };
    }
    if (this.waiting.size === 0) return undefined;
    const ids = [...this.waiting].slice(0, MARK_READ_MAX_IDS);
    for (const id of ids) this.waiting.delete(id);
    return { all: false, ids };
  }

  protected putBack(batch: ReadBatch): void {
    if (batch.all) this.waitingAll = true;
    else for (const id of batch.ids) this.waiting.add(id);
  }

  protected frameOf(batch: ReadBatch, ref: string): MarkFrame {
    return batch.all ? { type: 'mark_all_read', ref } : { type: 'mark_read', ids: batch.ids, ref };
  }

  protected describe(batch: ReadBatch): string {
    return batch.all ? 'all' : batch.ids.join(', ');
  }
}
