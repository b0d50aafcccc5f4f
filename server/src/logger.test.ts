import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.ts';

describe('log redaction', () => {
  it('takes signed tokens out of URLs and keeps the rest', () => {
    expect(redactUrl('/api/v1/preference-center?token=abc.def&lang=de')).toBe('/api/v1/preference-center?token=[redacted]&lang=de');
    expect(redactUrl('/u/eyJwIjoidW5zdWIifQ.sig')).toBe('/u/[redacted]');
    expect(redactUrl('/u/abc?x=1')).toBe('/u/[redacted]?x=1');
    // Tracking tokens name the message (so the subscriber) and the link's address.
    expect(redactUrl('/t/c/eyJwIjoidGMifQ.sig')).toBe('/t/c/[redacted]');
    expect(redactUrl('/t/o/eyJwIjoidG8ifQ.sig')).toBe('/t/o/[redacted]');
    expect(redactUrl('/t/h/eyJwIjoidGgifQ.sig?x=1')).toBe('/t/h/[redacted]?x=1');
    expect(redactUrl('/t/other/abc')).toBe('/t/other/abc');
    expect(redactUrl('/api/v1/preference-center/unsubscribe-all/undo?token=a&undo=b')).toBe(
      '/api/v1/preference-center/unsubscribe-all/undo?token=[redacted]&undo=[redacted]',
    );
    expect(redactUrl('/api/v1/subscribers?limit=5')).toBe('/api/v1/subscribers?limit=5');
  });

  it('is what the request serializer logs', () => {
    const logger = createLogger({ LOG_LEVEL: 'info' }, 'test');
    const lines: string[] = [];
    const sink = pino(
      { serializers: (logger as unknown as { [k: symbol]: unknown })[pino.symbols.serializersSym] as pino.LoggerOptions['serializers'] },
      new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    sink.info({ req: { method: 'GET', url: '/preferences/?token=secret-value', ip: '127.0.0.1' } }, 'incoming request');
    expect(lines.join('')).not.toContain('secret-value');
    expect(lines.join('')).toContain('token=[redacted]');
  });
});
