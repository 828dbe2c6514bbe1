/** The embedded live session store: memory, plus a journal file that outlives the process. */
import type { Logger } from '@nestjs/common';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveSessionStore } from '../interfaces/datastar-live-options.interface';
import { LIVE_STORE_IN_USE, LIVE_STORE_MEMORY_ONLY } from './live.messages';

const JOURNAL = 'journal.ndjson';
const LOCK = 'lock';
/** Expired entries leave memory this often (the journal drops them when compacted). */
const SWEEP_MS = 60_000;
/** Lines appended since the last compaction past which (and past twice the live entries) the journal is rewritten. */
const COMPACT_AFTER = 10_000;
/** Entries per write while compacting. */
const CHUNK = 1_000;

/** Folders a store of this process holds: a second app in the same process cannot share one. */
const held = new Set<string>();

interface Entry {
  value: string;
  expires: number;
}

/** One journal line: a value set (`v`, expiring at `e`), or deleted (`d`). */
type JournalLine = { k: string; v: string; e: number } | { k: string; d: 1 };

/**
 * Sessions in memory, each change also appended to `<dir>/journal.ndjson`: the changes of one turn
 * of the event loop go in ONE synchronous write (a broadcast that re-renders 10,000 sessions makes
 * one syscall, not 10,000), at `flush()` or at the end of the turn (a `process.nextTick` queued by
 * the turn's first change). An event's answer goes out only after `flush()` (`LiveSession.event`),
 * so once it is sent its state is in the OS and a crash of the process (SIGKILL, OOM) loses
 * nothing; what a server-initiated update (handleInfo, a timer) sent down a stream reaches the
 * journal at the end of its turn, so a crash within that turn may lose it. A power loss may lose
 * what was not fsynced (`fsync` option: one fdatasync per write).
 * At boot the journal is read (a torn last line is skipped) and compacted to the live entries;
 * later compactions run after the turn that grew the journal (`setImmediate`), not inside it.
 * At most `maxEntries` are kept: past it the least recently used goes (a Map in use order, O(1)),
 * with a delete line so it does not come back at the next boot.
 * A folder is used by one process at a time (a lock file with its pid; a dead process's lock is
 * taken over); when it is in use or cannot be written, sessions are kept in memory only, with
 * a warning.
 */
export class EmbeddedSessionStore implements LiveSessionStore {
  private readonly entries = new Map<string, Entry>();
  private fd?: number;
  private lock?: string;
  private appended = 0;
  /** Journal lines of this turn, not yet written; `flushQueued`: the end-of-turn flush is queued. */
  private pending = '';
  private pendingLines = 0;
  private flushQueued = false;
  private compaction?: NodeJS.Immediate;
  private readonly sweeper: NodeJS.Timeout;
  private readonly releaseOnExit = () => {
    this.flush(); // process.exit() within a turn
    this.release();
  };
  private readonly endTurn = () => {
    this.flushQueued = false;
    this.flush();
  };
  /** The deferred compaction: once, after the turns whose writes asked for it. */
  private readonly compactLater = () => {
    this.compaction = undefined;
    if (this.fd === undefined) return;
    try {
      this.compact();
    } catch (error) {
      this.failed(error);
    }
  };

  constructor(
    private readonly dir: string | undefined,
    private readonly fsync: boolean,
    private readonly logger: Logger,
    private readonly maxEntries: number,
  ) {
    if (dir) this.open(dir);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref?.();
  }

  /** True while changes go to the journal (false: memory only). */
  get persistent(): boolean {
    return this.fd !== undefined;
  }

  get(id: string): string | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.expires <= Date.now()) return undefined;
    this.entries.set(id, entry); // now the most recently used
    return entry.value;
  }

  set(id: string, value: string, ttlMs: number): void {
    const expires = Date.now() + ttlMs;
    this.entries.delete(id); // re-inserted last: the most recently used
    this.entries.set(id, { value, expires });
    const line: JournalLine = { k: id, v: value, e: expires };
    if (this.entries.size > this.maxEntries) this.append(line, { k: this.evictOldest(), d: 1 });
    else this.append(line);
  }

  delete(id: string): void {
    if (this.entries.delete(id)) this.append({ k: id, d: 1 });
  }

  /** Writes the lines of this turn now (one write); called before an event's answer goes out. */
  flush(): void {
    if (!this.pendingLines) return;
    const bytes = Buffer.from(this.pending);
    const lines = this.pendingLines;
    this.pending = '';
    this.pendingLines = 0;
    if (this.fd === undefined) return;
    try {
      // A write may take part of a large batch (a nearly full disk): the rest follows, or it throws.
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at);
      if (this.fsync) fdatasyncSync(this.fd);
    } catch (error) {
      this.failed(error);
      return;
    }
    if ((this.appended += lines) > COMPACT_AFTER && this.appended > 2 * this.entries.size) {
      this.compaction ??= setImmediate(this.compactLater);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.flush();
    if (this.compaction) clearImmediate(this.compaction);
    this.compaction = undefined;
    this.closeJournal();
    this.release();
  }

  private open(dir: string): void {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const owner = this.takeLock(dir);
      if (owner) {
        this.logger.warn(LIVE_STORE_IN_USE(dir, owner));
        return;
      }
      this.load(join(dir, JOURNAL));
      this.compact();
    } catch (error) {
      this.closeJournal();
      this.release();
      this.logger.warn(LIVE_STORE_MEMORY_ONLY(dir, (error as Error).message));
    }
  }

  /** Takes `<dir>/lock`; returns who holds it when another live process does. */
  private takeLock(dir: string): string | undefined {
    if (held.has(dir)) return 'another application in this process';
    const path = join(dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        held.add(dir);
        this.lock = path;
        process.on('exit', this.releaseOnExit);
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number(readFileSync(path, 'utf8'));
        // Our own pid is a lock left by an earlier run (in a container the app is often pid 1).
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return `process ${pid}`;
        unlinkSync(path); // its process is gone (killed): take over
      }
    }
    return 'another process';
  }

  private release(): void {
    if (!this.lock) return;
    process.off('exit', this.releaseOnExit);
    try {
      unlinkSync(this.lock);
    } catch {
      // already gone
    }
    held.delete(this.dir!);
    this.lock = undefined;
  }

  /** The journal's entries as of its last complete line (later lines win; expired ones are dropped). */
  private load(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const now = Date.now();
    for (const line of text.split('\n')) {
      let entry: JournalLine;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // an empty or torn line (the process died mid-write)
      }
      if (!entry || typeof entry.k !== 'string') continue;
      if ('d' in entry) this.entries.delete(entry.k);
      else if (typeof entry.v === 'string' && typeof entry.e === 'number' && entry.e > now) {
        this.entries.delete(entry.k); // re-inserted last, as `set` does: the Map stays in use order
        this.entries.set(entry.k, { value: entry.v, expires: entry.e });
      }
    }
    // A lower cap than the last run's (or a torn delete line): the compaction after this drops the rest.
    while (this.entries.size > this.maxEntries) this.evictOldest();
  }

  /** Forgets the least recently used entry (the Map's first) and returns its id. */
  private evictOldest(): string {
    const id = this.entries.keys().next().value as string;
    this.entries.delete(id);
    return id;
  }

  /** Rewrites the journal with the live entries only (a new file renamed over the old one), then appends to it. */
  private compact(): void {
    const path = join(this.dir!, JOURNAL);
    const tmp = `${path}.tmp`;
    const now = Date.now();
    const fd = openSync(tmp, 'w', 0o600);
    try {
      let chunk: string[] = [];
      for (const [k, entry] of this.entries) {
        if (entry.expires <= now) continue;
        chunk.push(JSON.stringify({ k, v: entry.value, e: entry.expires }));
        if (chunk.length === CHUNK) {
          writeSync(fd, `${chunk.join('\n')}\n`);
          chunk = [];
        }
      }
      if (chunk.length) writeSync(fd, `${chunk.join('\n')}\n`);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    this.closeJournal();
    this.fd = openSync(path, 'a', 0o600);
    this.appended = 0;
  }

  /** Adds `lines` to this turn's write. */
  private append(...lines: JournalLine[]): void {
    if (this.fd === undefined) return;
    for (const line of lines) this.pending += `${JSON.stringify(line)}\n`;
    this.pendingLines += lines.length;
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(this.endTurn);
  }

  /** A full disk or a removed folder: sessions live on in memory. */
  private failed(error: unknown): void {
    this.closeJournal();
    this.logger.warn(LIVE_STORE_MEMORY_ONLY(this.dir!, (error as Error).message));
  }

  private closeJournal(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } finally {
      this.fd = undefined;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) if (entry.expires <= now) this.entries.delete(id);
  }
}

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
