import { Inject, LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * How log lines are written: `json` (one object a line, for log collectors) or `pretty` (for a
 * person at a terminal: time, level, message, then the fields).
 */
export type LogFormat = 'json' | 'pretty';

/**
 * The rule: LOG_FORMAT when it is set; otherwise JSON under NODE_ENV=production or whenever
 * stdout is not a terminal (a process manager, a container runtime, a pipe, a file), and pretty
 * at a terminal. `npm start` pipes its apps' output, so it sets LOG_FORMAT=pretty itself when
 * its own stdout is a terminal.
 */
export function chooseLogFormat(options: { logFormat?: LogFormat; nodeEnv: string; stdoutIsTTY: boolean }): LogFormat {
  if (options.logFormat) return options.logFormat;
  if (options.nodeEnv === 'production') return 'json';
  return options.stdoutIsTTY ? 'pretty' : 'json';
}

/**
 * Structured logs (pino) for every app; one event a line, fields not prose. `destination`
 * defaults to stdout; pretty output is colourised when the destination is a colour terminal (or
 * FORCE_COLOR says so).
 */
export function createLogger(
  name: string,
  level: string,
  format: LogFormat = 'json',
  destination?: DestinationStream,
): Logger {
  const options = { name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return destination ? pino(options, destination) : pino(options);
  return pino(
    options,
    pretty({
      // Synchronous: the last lines before an exit are not lost (a terminal is no hot path).
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      // NestJS's own messages name their context: inline, not a line of its own.
      messageFormat: '{if context}{context}: {end}{msg}',
      // `service` repeats the name pino-pretty already shows.
      ignore: 'pid,hostname,service,context',
      ...(destination ? { destination, colorize: false } : {}),
    }),
  );
}

/** An app's logger by the rule of chooseLogFormat, for this process's stdout. */
export function createAppLogger(
  name: string,
  config: { logLevel: string; logFormat?: LogFormat; nodeEnv: string },
): Logger {
  const format = chooseLogFormat({ ...config, stdoutIsTTY: process.stdout.isTTY === true });
  return createLogger(name, config.logLevel, format);
}

/** Lets NestJS write its own messages (module init, routes) through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

/** The process's pino logger, for structured lines (`logger.warn({ client_id }, 'what happened')`). */
export const LOGGER = Symbol('LOGGER');

export const InjectLogger = (): ParameterDecorator => Inject(LOGGER);
