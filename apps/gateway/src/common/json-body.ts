import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest } from './domain-error';

type Done = (error: Error | null, body?: unknown) => void;

/**
 * Where in a JSON value a key that could rewrite object prototypes sits: an own `__proto__`
 * key, or a `constructor` object with a `prototype` (the two secure-json-parse refuses).
 */
export function prototypeKeyPath(value: unknown, path = 'body'): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return `${path}.__proto__`;
  const ctor = (value as Record<string, unknown>).constructor;
  if (
    Object.prototype.hasOwnProperty.call(value, 'constructor') &&
    ctor !== null &&
    typeof ctor === 'object' &&
    Object.prototype.hasOwnProperty.call(ctor, 'prototype')
  ) {
    return `${path}.constructor.prototype`;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = prototypeKeyPath(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Fastify's JSON parser (secure-json-parse, refusing prototype keys) with one difference: it
 * answers every refusal FST_ERR_CTP_INVALID_JSON_BODY, "not valid JSON", also for a body that
 * is valid JSON whose only problem is a `__proto__` key. Such a body is refused here with a
 * description that names the key and where it is.
 */
export function useJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error') as unknown as (
    request: FastifyRequest,
    body: string,
    done: Done,
  ) => void;
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done: Done) => {
    parse(request, body as string, (error, value) => {
      if (error && (error as Error & { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        let plain: unknown;
        try {
          // The JSON grammar accepts these keys; only the prototype check refused the body.
          plain = JSON.parse(body as string);
        } catch {
          done(error);
          return;
        }
        const path = prototypeKeyPath(plain);
        if (path !== undefined) {
          done(
            invalidRequest(
              `the request body has the key ${path}, which is refused because it could change object prototypes; remove it`,
            ),
          );
          return;
        }
      }
      done(error, value);
    });
  });
}
