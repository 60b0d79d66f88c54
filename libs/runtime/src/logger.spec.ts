import { Writable } from 'node:stream';
import { chooseLogFormat, createLogger, LogFormat } from './logger';

describe('chooseLogFormat', () => {
  it.each<[LogFormat | undefined, string, boolean, LogFormat]>([
    // LOG_FORMAT wins, whatever else holds.
    ['json', 'development', true, 'json'],
    ['pretty', 'production', false, 'pretty'],
    // Otherwise: production is JSON, even at a terminal.
    [undefined, 'production', true, 'json'],
    [undefined, 'production', false, 'json'],
    // Elsewhere a terminal gets readable lines, anything else (a pipe, a file, a process manager) JSON.
    [undefined, 'development', true, 'pretty'],
    [undefined, 'test', true, 'pretty'],
    [undefined, 'development', false, 'json'],
    [undefined, 'test', false, 'json'],
  ])('LOG_FORMAT=%s NODE_ENV=%s, stdout a terminal: %s → %s', (logFormat, nodeEnv, stdoutIsTTY, expected) => {
    expect(chooseLogFormat({ ...(logFormat ? { logFormat } : {}), nodeEnv, stdoutIsTTY })).toBe(expected);
  });
});

describe('createLogger', () => {
  function capture(): { stream: Writable; text: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    return { stream, text: () => text };
  }

  it('json: one object a line, with the service and the fields', () => {
    const out = capture();
    createLogger('gateway', 'info', 'json', out.stream).info({ tenant: 'acme' }, 'revoked the sessions of a client');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 30,
      service: 'gateway',
      tenant: 'acme',
      msg: 'revoked the sessions of a client',
    });
  });

  it('pretty: time, level, name and message on a line, the fields below, NestJS context inline', () => {
    const out = capture();
    const logger = createLogger('gateway', 'info', 'pretty', out.stream);
    logger.info({ tenant: 'acme' }, 'revoked the sessions of a client');
    logger.info({ context: 'RoutesResolver' }, 'Mapped {/v1/tenants, POST} route');
    expect(out.text().split('\n')).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(gateway\): revoked the sessions of a client$/),
      '    tenant: "acme"',
      expect.stringMatching(/^\[[\d:.]+\] INFO \(gateway\): RoutesResolver: Mapped \{\/v1\/tenants, POST\} route$/),
      '',
    ]);
  });
});
