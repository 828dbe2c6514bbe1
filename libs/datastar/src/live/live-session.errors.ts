/** Why a session refused a request: the endpoints turn each into its HTTP answer. */

/** The session ended while the request waited in its queue. */
export class SessionEndedError extends Error {
  constructor() {
    super('live session ended');
  }
}

/** The session moved to another process while the request waited in its queue: it goes there. */
export class SessionMovedError extends Error {
  constructor() {
    super('live session moved');
  }
}

/** The session's queue is full. */
export class SessionBusyError extends Error {
  constructor() {
    super('live session busy');
  }
}

/** An event's signals would make the session's larger than `maxSignalBytes`. */
export class SignalsTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('live signals too large');
  }
}
