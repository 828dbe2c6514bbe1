import { Controller, Get, HttpException, Post, Req, Res } from '@nestjs/common';
import {
  executeScript, patchElements, patchSignals, patchSignalsRaw, readSignals, SignalsError, SseWriter,
  type DatastarEvent,
} from 'nestjs-datastar';

/**
 * The official Datastar SDK test endpoint (sdk/tests in the Datastar repository), built from the
 * library's own helpers: the signals carry `{"events": [...]}`, each written as given.
 */
@Controller('test')
export class SdkTestController {
  @Get()
  get(@Req() req: any, @Res() res: any) {
    return this.answer(req, res);
  }

  @Post()
  post(@Req() req: any, @Res() res: any) {
    return this.answer(req, res);
  }

  private async answer(req: any, res: any): Promise<void> {
    let events: DatastarEvent[];
    try {
      const signals = await readSignals({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers, body: req.body, stream: req });
      events = toEvents(signals.events);
    } catch (error) {
      const status = error instanceof SignalsError ? error.status : 400;
      throw new HttpException((error as Error).message, status);
    }
    const writer = new SseWriter(res, { heartbeat: false }).open();
    writer.send(events);
    writer.close();
  }
}

function toEvents(list: unknown): DatastarEvent[] {
  if (!Array.isArray(list)) throw new Error('Expected {"events": [...]}');
  return list.map((e: any) => {
    const base = { eventId: e.eventId, retryDuration: e.retryDuration };
    switch (e.type) {
      case 'patchElements':
        return patchElements(e.elements ?? '', {
          ...base, selector: e.selector, mode: e.mode, useViewTransition: e.useViewTransition,
          viewTransitionSelector: e.viewTransitionSelector, namespace: e.namespace,
        });
      case 'patchSignals':
        return e['signals-raw'] !== undefined
          ? patchSignalsRaw(String(e['signals-raw']), { ...base, onlyIfMissing: e.onlyIfMissing })
          : patchSignals(e.signals ?? {}, { ...base, onlyIfMissing: e.onlyIfMissing });
      case 'executeScript':
        return executeScript(e.script ?? '', { ...base, autoRemove: e.autoRemove, attributes: e.attributes });
      default:
        throw new Error(`Unknown event type "${String(e.type)}": use patchElements, patchSignals or executeScript.`);
    }
  });
}
