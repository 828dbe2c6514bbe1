import { Get, Render } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { merge } from 'rxjs';
import { DatastarPubSub, OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';
import { ChatRoom, ROOM } from './chat-room.service';
import { SendSignals } from './chat.signals';

@StarController()
export class ChatController {
  constructor(
    private readonly ds: SignalTracker,
    private readonly pubsub: DatastarPubSub,
    private readonly room: ChatRoom,
  ) {}

  @Get()
  @Render('chat')
  show() {
    this.ds
      .signal({ message: '', name: `guest-${randomInt(1000, 9999)}`, online: 0, errors: {} })
      .assign('history', this.room.recent());
  }

  /** The tab's stream (`data-init`): one per tab, room messages and the online count. */
  @OnEvent('stream', { streamScope: ROOM })
  stream() {
    this.room.changed();
    this.ds.onClose(() => this.room.changed());
    return merge(this.pubsub.subscribe(ROOM), this.room.onlinePatches());
  }

  @OnEvent('send')
  async send(@Signals() signals: SendSignals) {
    await this.room.post(signals.name?.trim() || 'guest', signals.message.trim());
    this.ds.signal('message', '');
  }
}
