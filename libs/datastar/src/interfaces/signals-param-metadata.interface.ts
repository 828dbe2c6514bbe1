/** Where a `@Signals()` parameter sits, and which signal it takes (all when no key). */
export interface SignalsParamMetadata {
  index: number;
  key?: string;
}
