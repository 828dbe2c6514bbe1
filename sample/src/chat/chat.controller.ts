import { Get, Render } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';
import { ChatRoom, ROOM } from './chat-room.service';
import { SendSignals } from './chat.signals';

@StarController()
export class ChatController {
  constructor(
    private readonly ds: SignalTracker,
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
  @OnEvent('stream', { method: 'GET', streamScope: ROOM })
  stream() {
    this.room.changed();
    this.ds.onClose(() => this.room.changed());
    return this.room.events();
  }

  @OnEvent('send')
  async send(@Signals() signals: SendSignals) {
    await this.room.post(signals.name?.trim() || 'guest', signals.message.trim());
    this.ds.signal('message', '');
  }
}
