import Handlebars from 'handlebars';
import { RenderSetup } from './render-setup';

class WithProto {
  own = 'own';
  get inherited(): string {
    return 'from the prototype';
  }
}

describe('RenderSetup', () => {
  const TEMPLATES: Array<[string, string, unknown]> = [
    ['values, escaping', '<p>{{a}} {{{b}}} {{c.d}}</p>', { a: '<x>', b: '<i>raw</i>', c: { d: 4 } }],
    ['@root, each with @index and ../', '{{#each items}}{{@index}}:{{this}}:{{../title}}:{{@root.title}};{{/each}}', { items: ['x', 'y'], title: 'T' }],
    ['if / unless / with / lookup', '{{#if on}}on{{else}}off{{/if}}{{#unless on}}!{{/unless}}{{#with c}}{{d}}{{/with}}{{lookup m k}}', { on: true, c: { d: 1 }, m: { z: 'Z' }, k: 'z' }],
    ['a registered helper and a block helper', '{{shout a}} {{#twice}}b{{/twice}}', { a: 'hi' }],
    ['a partial, with a hash', '{{> item name=a}}', { a: 'p' }],
    ['prototype properties are not reachable', '[{{own}}|{{inherited}}|{{constructor}}|{{__proto__}}]', new WithProto()],
    ['a missing value renders empty', '[{{nothing}}|{{deep.nothing}}]', {}],
  ];

  function instance(): typeof Handlebars {
    const hbs = Handlebars.create();
    hbs.registerHelper('shout', (value: string) => `${value.toUpperCase()}!`);
    hbs.registerHelper('twice', function (this: unknown, options: Handlebars.HelperOptions) {
      return options.fn(this) + options.fn(this);
    });
    hbs.registerPartial('item', '<li>{{name}}</li>');
    return hbs;
  }

  it.each(TEMPLATES)('renders %s exactly as a top-level Handlebars call does', (_name, source, context) => {
    const hbs = instance();
    const setup = new RenderSetup(hbs);
    const template = hbs.compile(source);
    const expected = template(context);
    expect(setup.render(template, context)).toBe(expected);
    expect(setup.render(template, context)).toBe(expected); // the prepared set-up again
  });

  it('a missing helper called with arguments throws as Handlebars does', () => {
    const hbs = instance();
    const template = hbs.compile('{{nope a}}');
    expect(() => template({ a: 1 })).toThrow('Missing helper: "nope"');
    expect(() => new RenderSetup(hbs).render(template, { a: 1 })).toThrow('Missing helper: "nope"');
  });

  it('sees helpers registered or removed and partials registered after its first render', () => {
    const hbs = instance();
    const setup = new RenderSetup(hbs);
    const template = hbs.compile('{{late}}|{{> later}}');
    hbs.registerPartial('later', 'one');
    expect(setup.render(template, { late: 'a value' })).toBe('a value|one');
    hbs.registerHelper('late', () => 'a helper');
    hbs.registerPartial('later', 'two');
    expect(setup.render(template, { late: 'a value' })).toBe('a helper|two');
    hbs.unregisterHelper('late');
    expect(setup.render(template, { late: 'a value' })).toBe('a value|two');
  });
});
