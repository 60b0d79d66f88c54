import { Queue } from 'bullmq';

/**
 * A BullMQ Queue that reports its connection errors where they matter (readiness, the operation
 * that fails) and never as an unhandled 'error' event, which would end the process: the
 * listener is in place from construction, before the first connection attempt can fail. Given
 * to @nestjs/bullmq as its queue class (BullModule.queueClass).
 */
export class QuietQueue extends Queue {
  constructor(...args: ConstructorParameters<typeof Queue>) {
    super(...args);
    this.on('error', () => undefined);
  }
}
