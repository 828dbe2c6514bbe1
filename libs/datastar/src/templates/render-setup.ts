import type Handlebars from 'handlebars';

/** The runtime options Handlebars hands a partial: everything a template needs to run. */
interface PreparedOptions {
  helpers: Record<string, Function>;
  partials: Record<string, unknown>;
  decorators: Record<string, Function>;
  hooks: Record<string, Function>;
  protoAccessControl: unknown;
}

const PROBE = 'ds-render-setup-probe';
const CHANGES_SETUP = ['registerHelper', 'unregisterHelper', 'registerDecorator', 'unregisterDecorator'] as const;

/**
 * Runs templates the way Handlebars runs a partial, with the set-up made once. On every top-level
 * call Handlebars wraps each registered helper anew (about 3 us with ours; bench: dispatch profile),
 * while a partial receives its caller's prepared helpers, hooks and prototype access rules. Those
 * are taken from one probe render, and taken again after a helper or decorator is (un)registered;
 * partials are the instance's own table, so later ones are seen.
 */
export class RenderSetup {
  private prepared?: PreparedOptions;

  constructor(private readonly hbs: typeof Handlebars) {
    for (const name of CHANGES_SETUP) {
      const original = hbs[name] as (...args: unknown[]) => void;
      (hbs as any)[name] = (...args: unknown[]) => {
        this.prepared = undefined;
        return original.apply(hbs, args);
      };
    }
  }

  render(template: Handlebars.TemplateDelegate, context: unknown): string {
    const prepared = (this.prepared ??= this.probe());
    // `partial: true` makes Handlebars use these as they are; `data.root` is what its own set-up adds.
    return template(context, {
      partial: true, helpers: prepared.helpers, partials: prepared.partials, decorators: prepared.decorators,
      hooks: prepared.hooks, protoAccessControl: prepared.protoAccessControl, data: { root: context },
    } as Handlebars.RuntimeOptions);
  }

  private probe(): PreparedOptions {
    let seen: PreparedOptions | undefined;
    const capture = (_context: unknown, options?: Handlebars.RuntimeOptions) => {
      seen = options as PreparedOptions;
      return '';
    };
    this.hbs.compile(`{{> ${PROBE}}}`)({}, { partials: { [PROBE]: capture } });
    if (!seen) throw new Error('Handlebars did not run the set-up probe');
    return {
      helpers: seen.helpers, partials: this.hbs.partials, decorators: seen.decorators, hooks: seen.hooks,
      protoAccessControl: seen.protoAccessControl,
    };
  }
}
