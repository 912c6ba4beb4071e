import type { ReadMark } from './types.js';

/** What the tabs of one user tell each other (kept as it is: tabs of two versions may meet). */
type ChannelMessage =
  { kind: 'read'; ids: string[] } | { kind: 'read_all' } | { kind: 'count'; count: number };

export interface TabListener {
  /** Another tab marked notifications read. */
  read(mark: ReadMark): void;
  /** Another tab received the count that answered its marks. */
  count(count: number): void;
}

/**
 * The tabs of one user, kept in step over a BroadcastChannel named after the user (nothing is
 * shared where the browser has none).
 */
export class TabChannel {
  private channel: BroadcastChannel | undefined;

  constructor(private readonly listener: TabListener) {}

  /** Listens to the tabs of `user` (and no longer to those of the previous one). */
  join(user: string): void {
    this.channel?.close();
    this.channel =
      typeof BroadcastChannel === 'function' ? new BroadcastChannel(`normx-notify:${user}`) : undefined;
    if (this.channel)
      this.channel.onmessage = (event: MessageEvent<ChannelMessage>) => this.receive(event.data);
  }

  shareRead(ids: string[]): void {
    this.post({ kind: 'read', ids });
  }

  shareReadAll(): void {
    this.post({ kind: 'read_all' });
  }

  shareCount(count: number): void {
    this.post({ kind: 'count', count });
  }

  close(): void {
    this.channel?.close();
  }

  private post(message: ChannelMessage): void {
    this.channel?.postMessage(message);
  }

  private receive(message: ChannelMessage): void {
    if (message.kind === 'read') this.listener.read({ ids: message.ids });
    else if (message.kind === 'read_all') this.listener.read({ all: true });
    else this.listener.count(message.count);
  }
}
