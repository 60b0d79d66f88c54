import { Controller, Get, OnModuleInit, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../common/domain-error';
import { CONSOLE_HEADERS, ConsoleAsset, loadConsoleAssets } from './console-assets';

/**
 * The operator console at /console: one HTML page, plain ES modules and one style sheet, served
 * from this origin with a strict Content-Security-Policy. The page signs in with a token and
 * calls the /v1 API like any other caller; nothing here is authenticated, since nothing here
 * holds data.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController implements OnModuleInit {
  private assets = new Map<string, ConsoleAsset>();

  onModuleInit(): void {
    this.assets = loadConsoleAssets();
  }

  @Get()
  async index(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.send('index.html', request, reply);
  }

  @Get(':file')
  async file(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.send(file, request, reply);
  }

  @Get('js/:file')
  async script(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.send(`js/${file}`, request, reply);
  }

  @Get('js/pages/:file')
  async page(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.send(`js/pages/${file}`, request, reply);
  }

  private async send(path: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const asset = this.assets.get(path);
    if (!asset) throw notFound('there is no such console file');
    void reply.headers({ ...CONSOLE_HEADERS, etag: asset.etag });
    if (request.headers['if-none-match'] === asset.etag) {
      await reply.status(304).send();
      return;
    }
    await reply.status(200).header('content-type', asset.contentType).send(asset.body);
  }
}
