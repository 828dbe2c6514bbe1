import { Get, Render } from '@nestjs/common';
import { OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';
import { CounterSignals } from './counter.signals';

@StarController() // pages under /counter, events at /ds/counter/<event>
export class CounterController {
  constructor(private readonly ds: SignalTracker) {}

  @Get()
  @Render('counter')
  show() {
    this.ds.signal({ count: 0, errors: {} }); // initial browser state, rendered into data-signals
  }

  @OnEvent('increment') // POST /ds/counter/increment
  increment(@Signals() signals: CounterSignals) {
    const count = signals.count + 1;
    this.ds
      .assign('square', count * count) // server-only: the history item shows it, the browser never gets it as a signal
      .signal('count', count) // template data AND a signal patch
      .patchElement('history-item', { to: 'history-list', mode: 'append' });
  }
}
