/**
 * Where the page driver gets the Datastar client it runs, in this order:
 * 1. the file `PageOptions.clientPath`;
 * 2. the app itself, when the page's client script is on the page's origin (exactly what it runs);
 * 3. the file the `DATASTAR_JS` environment variable names;
 * 4. a cache folder, for a CDN script pinned with `integrity` (downloaded once, verified).
 * Whatever the source, a script with `integrity` only runs a client that matches it, as a browser would.
 * A download that fails (offline, a firewall that drops packets) fails fast, and is not tried again
 * in the process: every page then runs in the emulator, with the reason in `page.runtimeReason`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanStartTags } from './html-scan';

/** How long a CDN may take to answer (its headers): a network that drops packets must not hang a test. */
const DOWNLOAD_ANSWER_MS = 2000;
/** How long the whole download may take. */
const DOWNLOAD_MS = 15_000;
/** Downloads under way, and the ones that failed, by URL: each is tried once per process. */
const downloads = new Map<string, Promise<Buffer | string>>();

/** The `<script src>` a page loads its Datastar client with. */
export interface ClientScriptTag {
  /** Absolute URL. */
  src: string;
  integrity?: string;
}

export interface ClientBundle {
  code: string;
  /** Where it came from, for messages. */
  from: string;
}

export interface ClientBundleOptions {
  /** The clientPath option. */
  path?: string;
  /** The DATASTAR_JS environment variable. */
  envPath?: string;
  cacheDir: string;
  /** Headers for a request to the app (auth, cookies). */
  headers: Record<string, string>;
}

/** The page's Datastar client script: a `<script src>` whose file name starts with "datastar". */
export function clientScriptTag(html: string, pageUrl: string): ClientScriptTag | undefined {
  for (const tag of scanStartTags(html)) {
    if (tag.name !== 'script') continue;
    const src = tag.attributes.find(([name]) => name === 'src')?.[1];
    if (!src) continue;
    const url = new URL(src, pageUrl);
    if (!/^datastar\b/i.test(url.pathname.split('/').pop() ?? '')) continue;
    const integrity = tag.attributes.find(([name]) => name === 'integrity')?.[1]?.trim();
    return { src: url.href, ...(integrity ? { integrity } : {}) };
  }
  return undefined;
}

/** The client to run, or why there is none (a string). Throws when the page would break in a browser. */
export async function findClientBundle(
  pageUrl: string, tag: ClientScriptTag | undefined, options: ClientBundleOptions,
): Promise<ClientBundle | string> {
  if (options.path) return readBundle(options.path, tag);
  if (tag && new URL(tag.src).origin === new URL(pageUrl).origin) {
    const res = await fetch(tag.src, { headers: options.headers });
    if (!res.ok) throw new Error(`The page loads its Datastar client from ${tag.src}, which answered ${res.status}: in a browser nothing would run.`);
    return verified(Buffer.from(await res.arrayBuffer()), tag, tag.src);
  }
  if (options.envPath) return readBundle(options.envPath, tag);
  if (!tag) return 'the page has no Datastar <script src> and no clientPath or DATASTAR_JS was given';
  if (!tag.integrity) return `the page loads its client from ${tag.src} without an integrity hash: set clientPath or DATASTAR_JS`;
  const file = join(options.cacheDir, `${createHash('sha256').update(tag.integrity).digest('hex').slice(0, 32)}.js`);
  const cached = await readFile(file).catch(() => undefined);
  if (cached && matchesIntegrity(cached, tag.integrity)) return { code: cached.toString('utf8'), from: file };
  const downloaded = await download(tag.src);
  if (typeof downloaded === 'string') return downloaded;
  const bundle = verified(downloaded, tag, tag.src);
  await mkdir(options.cacheDir, { recursive: true });
  // Written aside and renamed, so a parallel test never reads half a file.
  const part = `${file}.${process.pid}.part`;
  await writeFile(part, downloaded);
  await rename(part, file);
  return bundle;
}

/** The file at `src`, or why it cannot be had; a failure is remembered (a success is in the cache folder). */
function download(src: string): Promise<Buffer | string> {
  let pending = downloads.get(src);
  if (!pending) {
    pending = fetchFile(src);
    downloads.set(src, pending);
    void pending.then((result) => {
      if (typeof result !== 'string') downloads.delete(src);
    });
  }
  return pending;
}

async function fetchFile(src: string): Promise<Buffer | string> {
  const answer = new AbortController();
  const timer = setTimeout(() => answer.abort(new Error(`no answer within ${DOWNLOAD_ANSWER_MS} ms`)), DOWNLOAD_ANSWER_MS);
  timer.unref();
  const failed = (why: string) => `downloading ${src} ${why}, and is not tried again in this process: set clientPath or DATASTAR_JS`;
  try {
    const res = await fetch(src, { signal: AbortSignal.any([answer.signal, AbortSignal.timeout(DOWNLOAD_MS)]) });
    clearTimeout(timer);
    if (!res.ok) return failed(`answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  } catch (error) {
    const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
    return failed(`failed (${message}${cause ? `: ${cause.code ?? cause.message}` : ''})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Subresource Integrity: does `code` match one of the hashes (`sha256-…`, `sha384-…`, `sha512-…`)? */
export function matchesIntegrity(code: Buffer, integrity: string): boolean {
  return integrity.split(/\s+/).some((entry) => {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/=_-]+)(?:\?.*)?$/.exec(entry);
    return m !== null && createHash(m[1]).update(code).digest('base64') === m[2];
  });
}

async function readBundle(path: string, tag: ClientScriptTag | undefined): Promise<ClientBundle> {
  const code = await readFile(path).catch((error: Error) => {
    throw new Error(`The Datastar client file ${path} cannot be read (${error.message}).`);
  });
  return verified(code, tag, path);
}

function verified(code: Buffer, tag: ClientScriptTag | undefined, from: string): ClientBundle {
  if (tag?.integrity && !matchesIntegrity(code, tag.integrity)) {
    throw new Error(
      `The Datastar client from ${from} does not match the page's integrity="${tag.integrity}" `
      + `(its sha256 is ${createHash('sha256').update(code).digest('hex')}): a browser would refuse to run it.`,
    );
  }
  return { code: code.toString('utf8'), from };
}
