import { DUPLICATE_EVENT } from '../datastar.messages';
import { DatastarHandlerRegistry, type DatastarHandler } from './datastar-handler.registry';

class CounterController {}
class OtherCounterController {}

const handler = (controller: string, event: string, metatype: Function, methodName: string): DatastarHandler =>
  ({ controller, event, methodName, method: 'POST', metatype, signalsParams: [], paramTypes: [], hasRouteArgs: false }) as unknown as DatastarHandler;

describe('DatastarHandlerRegistry', () => {
  it('finds and lists handlers by controller/event', () => {
    const registry = new DatastarHandlerRegistry();
    const increment = handler('counter', 'increment', CounterController, 'increment');
    const reset = handler('counter', 'reset', CounterController, 'reset');
    const otherIncrement = handler('other', 'increment', OtherCounterController, 'increment');
    [increment, reset, otherIncrement].forEach((h) => registry.add(h));
    expect(registry.get('counter', 'increment')).toBe(increment);
    expect(registry.get('other', 'increment')).toBe(otherIncrement);
    expect(registry.get('counter', 'missing')).toBeUndefined();
    expect(registry.list()).toEqual(['counter/increment', 'counter/reset', 'other/increment']);
    expect(registry.all()).toEqual([increment, reset, otherIncrement]);
  });

  it('the same event twice: an error naming both methods, and the first stays', () => {
    const registry = new DatastarHandlerRegistry();
    const first = handler('counter', 'increment', CounterController, 'increment');
    registry.add(first);
    expect(() => registry.add(handler('counter', 'increment', OtherCounterController, 'bump'))).toThrow(
      new Error(DUPLICATE_EVENT('counter', 'increment', 'CounterController.increment()', 'OtherCounterController.bump()')),
    );
    expect(DUPLICATE_EVENT('counter', 'increment', 'A.a()', 'B.b()')).toBe(
      'Datastar event "counter/increment" is declared twice (A.a() and B.b()): ' +
        "rename one @OnEvent() or give one controller another name with @StarController('name').",
    );
    expect(registry.get('counter', 'increment')).toBe(first);
  });
});
