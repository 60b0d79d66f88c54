import { Inject, LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/** Structured JSON logs (pino) for every app; one line per event, fields not prose. */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
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
