import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { DependencyUnavailableError, failAfter, isDependencyUnavailable } from './unavailable.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it.each([
    ['PostgreSQL refusing connections', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['both addresses of localhost refusing', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], '')],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection cut under a query', new Error('Connection terminated unexpectedly')],
    ['no pool connection in time', new Error('timeout exceeded when trying to connect')],
    ['Redis disconnected (fail fast)', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a Redis command timeout', new Error('Command timed out')],
    ['a Redis connection closed under a command', new Error('Connection is closed.')],
    ['an enqueue that timed out', new DependencyUnavailableError('the job queue is unavailable')],
    ['a 500 wrapping one of these', new AppError(500, 'internal_error', 'x', { cause: withCode('x', '57P01') })],
  ])('recognizes %s', (_name, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a programming error', new TypeError('x is not a function')],
    ['a value that is not an error', 'ECONNREFUSED'],
  ])('does not take %s for an outage', (_name, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });
});

describe('failAfter', () => {
  it('rejects as unavailable when the work does not settle in time, and passes results through', async () => {
    await expect(failAfter(new Promise(() => {}), 20, 'slow')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(failAfter(Promise.resolve(7), 1000, 'fast')).resolves.toBe(7);
  });
});
