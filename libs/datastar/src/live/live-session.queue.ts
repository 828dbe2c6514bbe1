/** A live session's work queue: events, infos, navigation and stream hand-overs, one at a time, in arrival order. */
import { MAX_SESSION_QUEUE } from './live.constants';

/** One piece of a session's work. */
export interface LiveTask {
  /** Returns a promise only when the work went async: the next task then waits for it. */
  run(): void | Promise<void>;
  /** The session ended before the task ran. */
  drop(): void;
}

/**
 * Runs tasks one at a time, in order; holds them until `start()` (the page is registered) and
 * drops every waiting one at `close()` (the session ended). Bounded: a full queue refuses.
 */
export class LiveTaskQueue {
  private readonly tasks: LiveTask[] = [];
  private running = false;
  private paused = true;
  private closed = false;

  /** `failed`: a task threw (tasks report their own failures: this is a bug's last stop). */
  constructor(private readonly failed: (error: unknown) => void) {}

  /** Tasks waiting (not counting the running one). */
  get size(): number {
    return this.tasks.length;
  }

  /** Queues `task`; false when the queue is full. Once closed, the task is dropped at once. */
  push(task: LiveTask): boolean {
    if (this.closed) {
      task.drop();
      return true;
    }
    if (this.tasks.length >= MAX_SESSION_QUEUE) return false;
    this.tasks.push(task);
    this.drain();
    return true;
  }

  /** Queues `task` first in line, whatever the bound: what runs meanwhile waits behind it. */
  pushFront(task: LiveTask): void {
    this.tasks.unshift(task);
    this.drain();
  }

  /** Runs what waits, and from now on what comes. */
  start(): void {
    this.paused = false;
    this.drain();
  }

  /** Stops after the running task and drops every waiting one; later tasks are dropped as they come. */
  close(): void {
    this.closed = true;
    this.paused = true;
    for (const task of this.tasks.splice(0)) task.drop();
  }

  /**
   * Runs tasks until one goes async; it goes on once that one settled. A task that completes
   * synchronously (most handleInfo) costs no promise: with AsyncLocalStorage on, each one is an
   * async hook call, per session of a broadcast (bench: live).
   */
  private drain(): void {
    if (this.running || this.paused) return;
    this.running = true;
    this.next();
  }

  private readonly next = (): void => {
    for (let task = this.tasks.shift(); task; task = this.paused ? undefined : this.tasks.shift()) {
      let pending: void | Promise<void>;
      try {
        pending = task.run();
      } catch (error) {
        this.failed(error);
        continue;
      }
      if (pending) {
        pending.then(undefined, this.failed).then(this.next);
        return;
      }
    }
    this.running = false;
  };
}
