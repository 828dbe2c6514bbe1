import { logFailure, reportFailure } from './datastar.errors';

function recorder() {
  const lines: Array<[message: string, stack?: string]> = [];
  return { lines, logger: { error: (message: string, stack?: string) => void lines.push([message, stack]) } };
}

describe('failure reporting', () => {
  it('logs the details under a fresh id, with the stack', () => {
    const { lines, logger } = recorder();
    const error = new Error('kaboom');
    const { details, id } = logFailure(logger, error, (message) => `counter/boom failed: ${message}`);
    expect(details).toBe('counter/boom failed: kaboom');
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(lines).toEqual([[`counter/boom failed: kaboom [error ${id}]`, error.stack]]);
    expect(logFailure(logger, error, String).id).not.toBe(id);
  });

  it('logs a thrown non-Error by its text', () => {
    const { lines, logger } = recorder();
    logFailure(logger, 'plain text', (message) => `x: ${message}`);
    expect(lines[0][0]).toMatch(/^x: plain text \[error [0-9a-f]{8}\]$/);
  });

  it('tells the browser the details only with exposeErrors, else the id', () => {
    const { lines, logger } = recorder();
    const secret = new Error('postgres://app:pw@db/prod');
    const hidden = reportFailure(logger, secret, (message) => `failed: ${message}`, false);
    const id = /\[error ([0-9a-f]{8})\]$/.exec(lines[0][0])![1];
    expect(hidden.data).not.toContain('postgres://');
    expect(hidden.data).toContain(id);
    const shown = reportFailure(logger, secret, (message) => `failed: ${message}`, true);
    expect(shown.data).toContain('failed: postgres://app:pw@db/prod');
  });
});
