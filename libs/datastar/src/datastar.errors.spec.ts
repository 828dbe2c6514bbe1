import { BadRequestException, HttpException, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import { logFailure, rejectionOf, reportFailure } from './datastar.errors';

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

describe('rejectionOf: a 4xx HttpException is an answer, not a failure', () => {
  it('its status and the message written for the client', () => {
    expect(rejectionOf(new NotFoundException('Todo 7 not found'))).toEqual({ status: 404, message: 'Todo 7 not found' });
    expect(rejectionOf(new BadRequestException(['a is empty', 'b is long']))).toEqual({ status: 400, message: 'a is empty; b is long' });
    expect(rejectionOf(new HttpException('slow down', 429))).toEqual({ status: 429, message: 'slow down' });
  });

  it('undefined for a 5xx, or anything that is no HttpException', () => {
    expect(rejectionOf(new InternalServerErrorException('db down'))).toBeUndefined();
    expect(rejectionOf(new HttpException('gateway', 502))).toBeUndefined();
    expect(rejectionOf(new Error('Not Found'))).toBeUndefined();
    expect(rejectionOf({ status: 404, message: 'duck-typed' })).toBeUndefined();
  });
});
