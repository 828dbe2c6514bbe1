import { PATCH_ELEMENTS } from '../protocol';
import { scriptBodies } from './html-scan';
import type { SseEvent } from './sse-event.interface';

/** Bodies of the `<script>` elements an event appends (what `executeScript` sends). */
export function scriptsOf(event: SseEvent): string[] {
  if (event.type !== PATCH_ELEMENTS || !event.patchElements) return [];
  return scriptBodies(event.patchElements.elements).map(unneutralise);
}

/** `executeScript` writes `<\/script` and `<\!--` so they cannot end the element: read them back. */
function unneutralise(script: string): string {
  return script.replace(/<\\\/(script)/gi, '</$1').replace(/<\\!--/g, '<!--');
}

const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
const REDIRECT_PATTERNS = [
  // what `redirect()` writes: new URL(<json>, window.location.href)
  new RegExp(`new URL\\((${JSON_STRING}),\\s*window\\.location\\.href\\)`),
  // what people write by hand
  new RegExp(`(?:window\\.)?location(?:\\.href)?\\s*=\\s*(${JSON_STRING})`),
  new RegExp(`(?:window\\.)?location\\.(?:assign|replace)\\((${JSON_STRING})\\)`),
];

/** The URL a redirect script sends the browser to, or undefined when it is not a redirect. */
export function redirectTarget(script: string): string | undefined {
  if (!/location/.test(script)) return undefined;
  for (const pattern of REDIRECT_PATTERNS) {
    const m = pattern.exec(script);
    if (m) {
      try {
        return JSON.parse(m[1]) as string;
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

/** Same target? Compares as written, then as resolved URLs (`https://a.b` equals `https://a.b/`). */
export function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const base = 'http://page.invalid/';
    return new URL(a, base).href === new URL(b, base).href;
  } catch {
    return false;
  }
}
