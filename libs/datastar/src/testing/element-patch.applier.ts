import { ELEMENT_PATCH_MODES } from '../protocol';
import type { PatchElementsView } from './sse-event.interface';

export interface ElementsPatchResult {
  /** Elements that entered the page (for `inner`, the target whose children changed). */
  inserted: Element[];
  /** Elements with an id that left the page, by id: the page driver compares them with their replacements. */
  removed: Map<string, Element>;
  /** What the client would log as an error (no target, bad selector, bad mode). */
  errors: string[];
}

const MODES: ReadonlySet<string> = new Set(ELEMENT_PATCH_MODES);

/**
 * Applies a `datastar-patch-elements` event to a DOM the way the client 1.0 does, except that
 * `outer` and `inner` replace instead of morphing: the new elements are fresh nodes, so focus,
 * listeners and typed-in values of the old ones are not carried over (the driver re-binds
 * `data-bind` values from signals, and treats id-matched elements with unchanged
 * `data-signals`/`data-init` as already initialised, which is what a morph would preserve).
 */
export function applyElementsPatch(
  document: Document,
  view: PatchElementsView,
  parseDocument: (html: string) => Document,
): ElementsPatchResult {
  const result: ElementsPatchResult = { inserted: [], removed: new Map(), errors: [] };
  const mode = view.mode;
  if (!MODES.has(mode)) {
    result.errors.push(`Unknown patch mode "${mode}": the client throws InvalidPatchMode. Use one of ${ELEMENT_PATCH_MODES.join(', ')}.`);
    return result;
  }
  let elements = view.elements;
  const withoutSvg = elements.replace(/<svg(\s[^>]*>|>)([\s\S]*?)<\/svg>/gim, '');
  const hasHtml = /<\/html>/.test(withoutSvg);
  const hasHead = /<\/head>/.test(withoutSvg);
  const hasBody = /<\/body>/.test(withoutSvg);
  const selector = view.selector?.trim() || undefined;

  if (hasHtml || hasHead || hasBody) {
    const parsed = parseDocument(elements);
    if (!selector && (mode === 'outer' || mode === 'replace')) {
      if (hasHtml || hasHead) replacePart(document.head, parsed.head, result);
      if (hasHtml || hasBody) replacePart(document.body, parsed.body, result);
      return result;
    }
    elements = hasBody || hasHtml ? parsed.body.innerHTML : parsed.head.innerHTML;
  }

  const fragment = () => parseFragment(document, elements, view.namespace);

  if (!selector) {
    if (mode !== 'outer' && mode !== 'replace') {
      result.errors.push(`Patch mode "${mode}" needs a selector: the client 1.0.2 matches only outer/replace patches by id.`);
      return result;
    }
    for (const node of fragment()) {
      if (node.nodeType !== 1) continue;
      const el = node as Element;
      const target = el.id ? document.getElementById(el.id) : null;
      if (!target) {
        result.errors.push(el.id
          ? `No element with id "${el.id}" to patch (NoTargetsFound): render it first or send a selector.`
          : `A top-level <${el.tagName.toLowerCase()}> without an id cannot be patched without a selector (NoTargetsFound).`);
        continue;
      }
      collectIds(target, true, result.removed);
      target.replaceWith(el);
      result.inserted.push(el);
    }
    return result;
  }

  let targets: Element[];
  try {
    targets = [...document.querySelectorAll(selector)];
  } catch (error) {
    result.errors.push(`Invalid selector "${selector}": ${(error as Error).message}`);
    return result;
  }
  if (targets.length === 0) {
    result.errors.push(`No element matches "${selector}" (NoTargetsFound).`);
    return result;
  }
  for (const target of targets) {
    if (mode === 'remove') {
      collectIds(target, true, result.removed);
      target.remove();
      continue;
    }
    const nodes = fragment();
    const added = nodes.filter((n): n is Element => n.nodeType === 1);
    switch (mode) {
      case 'outer':
      case 'replace':
        collectIds(target, true, result.removed);
        target.replaceWith(...nodes);
        result.inserted.push(...added);
        break;
      case 'inner':
        collectIds(target, false, result.removed);
        while (target.firstChild) target.firstChild.remove();
        target.append(...nodes);
        result.inserted.push(target);
        break;
      case 'prepend': target.prepend(...nodes); result.inserted.push(...added); break;
      case 'append': target.append(...nodes); result.inserted.push(...added); break;
      case 'before': target.before(...nodes); result.inserted.push(...added); break;
      case 'after': target.after(...nodes); result.inserted.push(...added); break;
    }
  }
  return result;
}

/** Fresh nodes for `html`; SVG and MathML are parsed inside their root so they get their namespace. */
function parseFragment(document: Document, html: string, namespace: string): Node[] {
  const template = document.createElement('template');
  if (namespace === 'svg' || namespace === 'mathml') {
    const root = namespace === 'svg' ? 'svg' : 'math';
    template.innerHTML = `<${root}>${html}</${root}>`;
    const wrapper = template.content.firstChild as Element | null;
    return wrapper ? [...wrapper.childNodes] : [];
  }
  template.innerHTML = html;
  return [...template.content.childNodes];
}

/** `<head>`/`<body>` patches: the part keeps its identity, takes the new attributes and children. */
function replacePart(target: HTMLElement | null, source: HTMLElement | null, result: ElementsPatchResult): void {
  if (!target || !source) return;
  collectIds(target, false, result.removed);
  for (const name of target.getAttributeNames()) target.removeAttribute(name);
  for (const name of source.getAttributeNames()) target.setAttribute(name, source.getAttribute(name) ?? '');
  target.innerHTML = source.innerHTML;
  result.inserted.push(...target.children);
}

function collectIds(root: Element, includeSelf: boolean, into: Map<string, Element>): void {
  if (includeSelf && root.id) into.set(root.id, root);
  for (const el of root.querySelectorAll('[id]')) into.set(el.id, el);
}
