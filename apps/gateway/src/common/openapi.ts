import { applyDecorators, INestApplication } from '@nestjs/common';
import {
  ApiBody,
  ApiResponse,
  DocumentBuilder,
  OpenAPIObject,
  type ReferenceObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorBodySchema } from './domain-error';

/**
 * The OpenAPI 3.1 document's schemas come from the zod schemas the routes validate with (request
 * bodies) or are checked against at compile time (responses, see `describing`), so the document
 * cannot drift from what the gateway accepts and answers.
 */

/** A zod schema as an OpenAPI 3.1 schema object: JSON Schema 2020-12, without `$schema`. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): SchemaObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // Refinements and transforms have no JSON Schema: the base type stands for them.
    unrepresentable: 'any',
    // Request bodies refuse unknown fields (strict schemas say so); responses may gain fields
    // in later versions, so a client that validates them must not refuse what it does not know.
    override: ({ jsonSchema }) => {
      if (io === 'output' && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
    },
  });
  // A `$ref` into `$defs` would resolve against the OpenAPI document, not this schema: inline only.
  if ('$defs' in json) throw new Error('an OpenAPI schema must not use $defs (a recursive or registered zod schema)');
  return json as SchemaObject;
}

/** Plain object types, intersections flattened, so that two spellings of one shape compare equal. */
type Shape<T> = T extends (infer U)[] ? Shape<U>[] : T extends object ? { [K in keyof T]: Shape<T[K]> } : T;
type Same<A, B> = (<X>() => X extends Shape<A> ? 1 : 2) extends <X>() => X extends Shape<B> ? 1 : 2 ? true : false;

/**
 * `describing<T>()(schema)` is `schema`, refused by the compiler unless it describes exactly T
 * (the same fields, each of the same type): a response type changed without its schema, or the
 * other way round, does not build.
 */
export function describing<T>() {
  return <S extends z.ZodType>(
    schema: S & (Same<z.output<S>, T> extends true ? unknown : { 'the schema does not describe the type': never }),
  ): S => schema;
}

/** The one error body of every refusal, as a component the responses refer to. */
export const ERROR_BODY_REF: ReferenceObject = { $ref: '#/components/schemas/ErrorBody' };

/**
 * The document served at /docs/openapi.json: OpenAPI 3.1, whose schemas are JSON Schema
 * 2020-12 (what z.toJSONSchema writes). Operations endpoints (/healthz, /readyz, /metrics) are
 * not part of the API and are left out.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('cimd-gateway')
      .setDescription(
        'Client ID Metadata Documents for multi-tenant OAuth authorization servers. Every error answers `{ error, error_description }`. ' +
          'Response objects may gain fields in later versions; request bodies refuse unknown fields.',
      )
      .setVersion('1')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          // Not a JWT (DocumentBuilder's default hint): both kinds of token are opaque.
          bearerFormat: undefined,
          description: 'The platform admin token (CIMD_ADMIN_TOKEN) or a tenant API key (cimd_<id>_<secret>)',
        },
        'bearer',
      )
      .build(),
  );
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ErrorBody: jsonSchemaOf(ErrorBodySchema, 'output') },
  };
  return document;
}

/** Named examples, each checked against the schema when the module loads (a wrong one fails the boot). */
function checkedExamples<T>(
  schema: z.ZodType,
  examples: Record<string, T>,
): Record<string, { summary: string; value: T }> {
  return Object.fromEntries(
    Object.entries(examples).map(([summary, value]) => {
      const r = schema.safeParse(value);
      if (!r.success) throw new Error(`OpenAPI example "${summary}" does not match its schema: ${r.error.message}`);
      return [summary, { summary, value }];
    }),
  );
}

/** A JSON request body validated with `schema` (its input side). */
export function ApiJsonBody<S extends z.ZodType>(schema: S, examples: Record<string, z.input<S>>): MethodDecorator {
  return ApiBody({
    required: true,
    schema: jsonSchemaOf(schema, 'input'),
    examples: checkedExamples(schema, examples),
  });
}

/** A JSON response body described by `schema` (its output side). */
export function ApiJsonResponse<S extends z.ZodType>(
  status: number,
  description: string,
  schema: S,
  examples: Record<string, z.output<S>>,
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description,
    schema: jsonSchemaOf(schema, 'output'),
    examples: checkedExamples(schema, examples),
  });
}

/** What each error status means on this API; every one has the body `{ error, error_description }`. */
const ERROR_STATUSES = {
  400: 'The request is malformed: a bad parameter, query or body (each problem is named in error_description).',
  401: 'No bearer token, or one that is not the admin token nor a live API key (WWW-Authenticate says which).',
  403: "The token may not do this: another tenant's key, or a route for the platform admin only.",
  404: 'The tenant, or the thing named in the path, does not exist.',
  409: 'The request conflicts with the current state (error "conflict").',
  413: 'The request body is larger than 64 KiB.',
  415: 'The request body is not application/json.',
  503: 'A backend (Redis, PostgreSQL or the fetch queue) is unreachable: retry after Retry-After seconds (error "temporarily_unavailable").',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

const ERROR_EXAMPLES: Record<ErrorStatus, z.output<typeof ErrorBodySchema>> = {
  400: { error: 'invalid_request', error_description: 'redirect_uri is required' },
  401: { error: 'invalid_token', error_description: 'the bearer token is not a valid admin token or API key' },
  403: { error: 'access_denied', error_description: 'this API key belongs to another tenant' },
  404: { error: 'not_found', error_description: 'there is no tenant acme' },
  409: { error: 'conflict', error_description: 'tenant acme already exists' },
  413: { error: 'invalid_request', error_description: 'the request body is too large' },
  415: { error: 'invalid_request', error_description: 'the request body must be application/json' },
  503: { error: 'temporarily_unavailable', error_description: 'the client cache is unreachable; try again shortly' },
};

const HEADERS: Partial<Record<ErrorStatus, Record<string, { description: string; schema: SchemaObject }>>> = {
  401: {
    'WWW-Authenticate': {
      description: 'Bearer error="invalid_token", error_description="…" (RFC 6750 §3)',
      schema: { type: 'string' },
    },
  },
  503: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
};

/**
 * The error responses a route (or every route of a controller) can give, plus `default`: any
 * other status, a 500 included, has the same body.
 */
export function ApiErrors(...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: ERROR_STATUSES[status],
        schema: ERROR_BODY_REF,
        example: ERROR_EXAMPLES[status],
        ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
      }),
    ),
    ApiResponse({
      status: 'default',
      description: 'Any other error (a 500 says only that it was logged), in the same shape.',
      schema: ERROR_BODY_REF,
      example: {
        error: 'server_error',
        error_description: 'the gateway failed to handle this request; it has been logged',
      },
    }),
  );
}
