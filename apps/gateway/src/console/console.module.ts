import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller';

/** The operator console's static files (apps/gateway/console). */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule {}
