import { RedisKeys } from '@cimd/contracts';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { ClientCacheRepository } from './client-cache.repository';
import { ClientEventStream } from './client-event-stream';
import { REDIS_SETTINGS, RedisConnections, RedisSettings } from './redis-connections';
import { QueueWorkers } from './queue-workers';
import { RedisPubSub } from './redis-pubsub';
import { REDIS } from './redis.tokens';

/**
 * Redis for a whole process: its connections (REDIS for commands, named ones on demand), the
 * deployment's key names (RedisKeys), typed pub/sub, and the repositories of what both apps
 * share (the client cache and the client event stream), and the BullMQ workers.
 */
@Global()
@Module({})
export class RedisModule {
  static forRoot(settings: RedisSettings): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: REDIS_SETTINGS, useValue: settings },
        { provide: RedisKeys, useValue: new RedisKeys(settings.prefix) },
        RedisConnections,
        {
          provide: REDIS,
          inject: [RedisConnections],
          useFactory: (c: RedisConnections) => c.connected('commands', 'commands'),
        },
        RedisPubSub,
        ClientCacheRepository,
        ClientEventStream,
        QueueWorkers,
      ],
      exports: [
        REDIS,
        RedisKeys,
        RedisConnections,
        RedisPubSub,
        ClientCacheRepository,
        ClientEventStream,
        QueueWorkers,
      ],
    };
  }
}
