import { Inject } from '@nestjs/common';

/** The process's shared Redis connection for commands (fails fast while Redis is down). */
export const REDIS = Symbol('REDIS');

export const InjectRedis = (): ParameterDecorator => Inject(REDIS);
