import type { grpc } from '@cimd/contracts';
import fc from 'fast-check';
import { authorizeRequestOf, checkRequestOf } from './grpc-messages';

type Message = grpc.CheckAuthorizationRequest__Output;

/** The answer of a parse: the request, or the words of its refusal. */
function outcome(parse: (m: Message) => unknown, message: Message): unknown {
  try {
    return { request: parse(message) };
  } catch (e) {
    return { refused: (e as Error).message };
  }
}

/** Strings around each field's bounds (0, 1, 64, 256, 8192 characters and one more), or absent. */
const field = fc.option(
  fc.oneof(
    fc.constantFrom('', 'S256', 'code', 'openid profile', 'https://app.example/cb'),
    fc.constantFrom(0, 1, 64, 65, 256, 257, 8192, 8193).map((n) => 'x'.repeat(n)),
    fc.string({ maxLength: 20 }),
  ),
  { nil: undefined },
);

describe('checkRequestOf', () => {
  it('takes a well-formed check as it is', () => {
    const message = {
      tenant: 'acme',
      client_id: 'https://app.example/client.json',
      redirect_uri: 'https://app.example/cb',
      code_challenge_method: 'S256',
    };
    expect(checkRequestOf(message)).toEqual({
      client_id: 'https://app.example/client.json',
      redirect_uri: 'https://app.example/cb',
      code_challenge_method: 'S256',
    });
  });

  it('answers every message as the schema does: the same request, or the same refusal', () => {
    fc.assert(
      fc.property(
        fc.record({
          client_id: field,
          redirect_uri: field,
          response_type: field,
          scope: field,
          code_challenge_method: field,
        }),
        (fields) => {
          const message = Object.fromEntries(
            Object.entries({ tenant: 'acme', ...fields }).filter(([, v]) => v !== undefined),
          ) as Message;
          expect(outcome(checkRequestOf, message)).toEqual(outcome(authorizeRequestOf, message));
        },
      ),
      { numRuns: 500 },
    );
  });
});
