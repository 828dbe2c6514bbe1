import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Where the browser test gets its two outside ingredients: the Datastar 1.0.2 client bundle (not on
 * npm, never committed: env DATASTAR_JS) and a Chromium binary (Debian `chromium`, or env
 * CHROMIUM_PATH). Decides whether the test runs, is skipped loudly, or must fail.
 */

/** SHA-256 of bundles/datastar.js at the v1.0.2 release (the file the CDN serves). */
export const DATASTAR_1_0_2_SHA256 = '2837d87acf6ee0ba8e4e63765926c25a98d63883b02f88be194a86b81d3fd24a';

export const NOT_RUN_MESSAGE = 'browser test did not run: set DATASTAR_JS=/path/to/datastar.js';

export type BrowserEnv =
  /** Everything is there: run the scenarios. */
  | { kind: 'run'; bundlePath: string; bundle: Buffer; chromiumPath: string }
  /** No bundle given: the test did not run (the one allowed loud skip). */
  | { kind: 'no-bundle' }
  /** Bundle given, no Chromium, not on CI: loud skip. */
  | { kind: 'no-chromium'; chromiumPath: string }
  /** A configuration the test must fail on (wrong bundle, Chromium missing on CI...). */
  | { kind: 'broken'; reason: string };

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return !!ci && ci !== 'false' && ci !== '0';
}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH?.trim() || '/usr/bin/chromium';
}

export function browserEnv(env: NodeJS.ProcessEnv = process.env): BrowserEnv {
  const bundlePath = env.DATASTAR_JS;
  if (bundlePath === undefined) return { kind: 'no-bundle' };
  if (!bundlePath.trim() || !existsSync(bundlePath)) {
    return { kind: 'broken', reason: `DATASTAR_JS=${JSON.stringify(bundlePath)} is not a file: point it at Datastar v1.0.2's bundles/datastar.js.` };
  }
  const bundle = readFileSync(bundlePath);
  const sha = createHash('sha256').update(bundle).digest('hex');
  if (sha !== DATASTAR_1_0_2_SHA256) {
    return {
      kind: 'broken',
      reason: `DATASTAR_JS=${bundlePath} has SHA-256 ${sha}, not Datastar v1.0.2's ${DATASTAR_1_0_2_SHA256}.`,
    };
  }
  const chromium = chromiumPath(env);
  if (!existsSync(chromium)) {
    if (isCi(env)) {
      return { kind: 'broken', reason: `DATASTAR_JS is set and CI=${env.CI}, but there is no Chromium at ${chromium} (set CHROMIUM_PATH).` };
    }
    return { kind: 'no-chromium', chromiumPath: chromium };
  }
  return { kind: 'run', bundlePath, bundle, chromiumPath: chromium };
}

/** A warning nobody scrolling past the Jest output can miss. */
export function warnLoudly(message: string): void {
  const bar = '!'.repeat(Math.min(100, message.length + 8));
  console.warn(`\n${bar}\n!!! ${message}\n${bar}\n`);
}

/** Chromium as the browser tests launch it: headless, nothing fetched from the network. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync',
];

export function launchChromium(env: Extract<BrowserEnv, { kind: 'run' }>): Promise<Browser> {
  return chromium.launch({ executablePath: env.chromiumPath, args: CHROMIUM_ARGS, timeout: 20_000 });
}

/**
 * `describe('<name> in Chromium with the Datastar 1.0.2 client', suite)` when the bundle and a
 * browser are there; otherwise the one test that says why it did not run (loudly), or fails
 * where it must (a wrong bundle, no Chromium on CI).
 */
export function describeInBrowser(name: string, suite: (env: Extract<BrowserEnv, { kind: 'run' }>) => void): void {
  const env = browserEnv();
  if (env.kind === 'run') {
    describe(`${name} in Chromium with the Datastar 1.0.2 client`, () => suite(env));
    return;
  }
  describe(`${name} in a real browser`, () => {
    if (env.kind === 'no-bundle') {
      it('did not run: DATASTAR_JS is not set', () => {
        warnLoudly(NOT_RUN_MESSAGE);
        expect(process.env.DATASTAR_JS).toBeUndefined();
      });
    } else if (env.kind === 'no-chromium') {
      it(`did not run: no Chromium at ${env.chromiumPath}`, () => {
        warnLoudly(`browser test did not run: no Chromium at ${env.chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
        expect(existsSync(env.chromiumPath)).toBe(false);
        expect(isCi()).toBe(false);
      });
    } else {
      it('has its browser and Datastar client', () => {
        throw new Error(env.reason);
      });
    }
  });
}
