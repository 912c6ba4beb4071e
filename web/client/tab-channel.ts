import type { InboxChange, ReadMark } from './types.js';
import type { CountsFrame } from './unread-count.js';

/**
 * What the tabs of one user tell each other (only added to: tabs of two versions may meet). A
 * `count` carries the whole counts frame with its date (a tab of an earlier version sends
 * `count` alone, undated).
 */
type ChannelMessage =
  | { kind: 'read'; ids: string[] }
  | { kind: 'read_all' }
  | ({ kind: 'count' } & CountsFrame)
  | { kind: 'archive'; ids: string[] }
  | { kind: 'unarchive'; ids: string[] }
  | { kind: 'seen'; lastId: string };

export interface TabListener {
  /** Another tab marked notifications read. */
  read(mark: ReadMark): void;
  /** Another tab received the counts that answered its marks. */
  count(frame: CountsFrame): void;
  /** Another tab archived, unarchived or saw notifications. */
  inbox(change: InboxChange): void;
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

  shareCount(frame: CountsFrame): void {
    this.post({ ...frame, kind: 'count' });
  }

  shareInbox(change: InboxChange): void {
    if ('archived' in change) this.post({ kind: 'archive', ids: change.archived });
    else if ('unarchived' in change) this.post({ kind: 'unarchive', ids: change.unarchived });
    else this.post({ kind: 'seen', lastId: change.seenUpTo });
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
    else if (message.kind === 'count') {
      const { kind: _kind, ...frame } = message;
      this.listener.count(frame);
    } else if (message.kind === 'archive') this.listener.inbox({ archived: message.ids });
    else if (message.kind === 'unarchive') this.listener.inbox({ unarchived: message.ids });
    else if (message.kind === 'seen') this.listener.inbox({ seenUpTo: message.lastId });
  }
}
