import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SIGNALS_PARAM_METADATA } from '../datastar.constants';
import { signalsOf } from '../core/request-signals';
import type { SignalsParamMetadata } from '../interfaces/signals-param-metadata.interface';

const SignalsValue = createParamDecorator((key: string | undefined, ctx: ExecutionContext) =>
  signalsOf(ctx.switchToHttp().getRequest(), key),
);

/**
 * The request's signals, or one of them with `@Signals('count')`. In `@OnEvent()` handlers a class
 * type is a class-validator DTO: the signals are validated and transformed before the handler runs.
 */
export function Signals(key?: string): ParameterDecorator {
  return (target, propertyKey, index) => {
    SignalsValue(key)(target, propertyKey, index);
    const list: SignalsParamMetadata[] = Reflect.getMetadata(SIGNALS_PARAM_METADATA, target.constructor, propertyKey!) ?? [];
    Reflect.defineMetadata(SIGNALS_PARAM_METADATA, [...list, { index, key }], target.constructor, propertyKey!);
  };
}
