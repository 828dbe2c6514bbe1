import { Injectable, type Type } from '@nestjs/common';
import type { InstanceWrapper } from './nest-internals';
import { DUPLICATE_EVENT } from '../datastar.messages';
import type { DatastarEventMethod } from '../interfaces/on-event-options.interface';
import type { SignalsParamMetadata } from '../interfaces/signals-param-metadata.interface';

/** One `@OnEvent()` handler, as discovered at bootstrap. */
export interface DatastarHandler {
  controller: string;
  event: string;
  methodName: string;
  /** The one HTTP method it answers, from `@OnEvent(name, { method })` (default `POST`). */
  method: DatastarEventMethod;
  /** Per-tab dedup scope from `@OnEvent(name, { streamScope })`. */
  streamScope?: string;
  metatype: Type;
  /** @internal */ wrapper: InstanceWrapper;
  /** @internal */ signalsParams: SignalsParamMetadata[];
  /** @internal */ paramTypes: unknown[];
  /** @internal Nest resolves the parameters (the method has parameter decorators). */ hasRouteArgs: boolean;
}

/** Every Datastar event handler by `controller/event`: inject it to list what is served. */
@Injectable()
export class DatastarHandlerRegistry {
  private readonly handlers = new Map<string, DatastarHandler>();
  /** The same, by controller then event: a lookup per request builds no `controller/event` string. */
  private readonly byController = new Map<string, Map<string, DatastarHandler>>();

  /** @internal */
  add(handler: DatastarHandler): void {
    const key = `${handler.controller}/${handler.event}`;
    const existing = this.handlers.get(key);
    if (existing) {
      throw new Error(
        DUPLICATE_EVENT(handler.controller, handler.event, where(existing), where(handler)),
      );
    }
    this.handlers.set(key, handler);
    let events = this.byController.get(handler.controller);
    if (!events) this.byController.set(handler.controller, (events = new Map()));
    events.set(handler.event, handler);
  }

  get(controller: string, event: string): DatastarHandler | undefined {
    return this.byController.get(controller)?.get(event);
  }

  /** @internal Every handler. */
  all(): DatastarHandler[] {
    return [...this.handlers.values()];
  }

  /** `['counter/increment', ...]` */
  list(): string[] {
    return [...this.handlers.keys()];
  }
}

function where(handler: DatastarHandler): string {
  return `${handler.metatype.name}.${handler.methodName}()`;
}
