import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable, map } from 'rxjs';
import { RENDER_METADATA } from '../core/nest-internals';
import { DATASTAR_LOCALS, STAR_CONTROLLER_METADATA } from '../datastar.constants';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import type { DatastarViewData } from '../templates/datastar-helpers';
import { DatastarContext, datastarStorage } from '../core/request-context';
import { SignalTracker } from './signal-tracker.service';

/**
 * Opens the tracker for a StarController's page handlers and hands `assign`/`signal` data to
 * `@Render` templates (with `_datastar` for the helpers). Inside dispatch it steps aside.
 */
@Injectable()
export class DatastarPageInterceptor implements NestInterceptor {
  constructor(
    private readonly tracker: SignalTracker,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || datastarStorage.getStore()) return next.handle();
    const http = context.switchToHttp();
    const controller = Reflect.getMetadata(STAR_CONTROLLER_METADATA, context.getClass())?.name as string | undefined;
    const ctx = new DatastarContext('page', http.getRequest(), http.getResponse(), controller);
    ctx.readSignals = this.settings.readSignals;
    const renders = Reflect.getMetadata(RENDER_METADATA, context.getHandler()) !== undefined;
    // The handler runs when Nest subscribes: subscribe inside run() so it sees the context.
    const handled = new Observable<unknown>((subscriber) =>
      datastarStorage.run(ctx, () => next.handle().subscribe(subscriber)),
    );
    if (!renders) return handled;
    return handled.pipe(
      map((result) => {
        if (result !== undefined && (result === null || typeof result !== 'object' || Array.isArray(result))) return result;
        const view: DatastarViewData = { controller, signals: this.tracker.pageSignals(ctx) };
        return { ...ctx.assigns, ...(result as object), [DATASTAR_LOCALS]: view };
      }),
    );
  }
}
