/** A template name, a function `(assigns) => html`, or HTML itself (a string starting with `<`). */
export type TemplateSource = string | ((assigns: Record<string, any>) => string);
