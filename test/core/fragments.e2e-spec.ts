import { patchElements, SignalTracker } from 'nestjs-datastar';
import { todosModule, type Todo } from './fixtures/todos.app';
import { ADAPTERS, ds, json, query, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, signalsEvent, SseReader } from './fixtures/sse';

/** The todo partial as the page's own render would give it: the action targets this controller. */
const item = (todo: Todo) =>
  `<li id="todo-${todo.id}" class="${todo.done ? 'done' : ''}"><button class="toggle" ` +
  `data-on:click="$id = ${todo.id}; @post(&quot;/ds/todos/toggle&quot;)">${todo.title}</button></li>`;

/**
 * A fragment for every tab: `renderFragment` in a StarController handler renders a partial (named
 * as patchElement names it) into a patch event for `pubsub.publish()`, and `renderToString` into
 * HTML; `{{ds-action 'toggle'}}` inside knows the handler's controller.
 */
describe.each(ADAPTERS)('fragments for a broadcast (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(todosModule(), adapter);
  });
  afterAll(() => t.close());

  it('renderFragment: a handler publishes the partial, with its {{ds-action}}, to every open tab', async () => {
    const tabs = await Promise.all([1, 2].map(async () => new SseReader(await t.fetch(`/ds/todos/stream${query({})}`, ds()))));
    try {
      expect(await readSse(await t.fetch('/ds/todos/add', json('POST', { title: 'milk <2l>' })))).toEqual([
        signalsEvent({ title: '' }),
      ]);
      const published = elementsEvent(item({ id: 1, title: 'milk &lt;2l&gt;', done: false }), { selector: '#todo-list', mode: 'append' });
      // toMatchObject: pub/sub may number its events (an `id` for replay); the fragment is what this test is about.
      for (const tab of tabs) {
        expect(await tab.next()).toEqual({ data: [], id: expect.any(String) }); // the topic's position, sent alone on open
        expect(await tab.next()).toMatchObject(published);
      }
    } finally {
      await Promise.all(tabs.map((tab) => tab.cancel()));
    }
  });

  it('renderToString: the same partial as HTML, for this tab', async () => {
    expect(await readSse(await t.fetch('/ds/todos/toggle', json('POST', { id: 1 })))).toEqual([
      elementsEvent(item({ id: 1, title: 'milk &lt;2l&gt;', done: true })),
    ]);
  });

  it('outside a request there is no controller: an action must name it', () => {
    const tracker = t.app.get(SignalTracker);
    expect(() => tracker.renderToString('todo-item', { id: 1, title: 'x', done: false })).toThrow(
      "{{ds-action}} needs to know the controller: render the template from a @StarController(), or name it, e.g. {{ds-action 'counter/increment'}}.",
    );
    const todo: Todo = { id: 2, title: 'bread', done: false };
    expect(tracker.renderFragment((locals) => `<li id="todo-${locals.id}">${locals.title}</li>`, { to: 'todo-list', mode: 'prepend', locals: todo }))
      .toEqual(patchElements('<li id="todo-2">bread</li>', { selector: '#todo-list', mode: 'prepend' }));
  });
});
