import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { standardWebhookHeaders, webhookSignature } from './webhook-queue';

/** Signatures as a receiver checks them, with the standardwebhooks reference library. */
describe('webhook signatures', () => {
  const body = JSON.stringify({ id: '7', type: 'session.revoked', data: { sessions: 1 } });
  const now = () => Math.floor(Date.now() / 1000);

  it('a whsec_ secret: the library takes the secret string as is', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const headers = standardWebhookHeaders(secret, 'delivery-1', now(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('any other secret: its UTF-8 bytes are the key, which the library takes as raw bytes', () => {
    const secret = 'webhook-secret-0123456789abcdef-é';
    const headers = standardWebhookHeaders(secret, 'delivery-1', now(), body);
    expect(() => new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(body, headers)).not.toThrow();
  });

  it('binds the id, the timestamp and the body', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const headers = standardWebhookHeaders(secret, 'delivery-1', now(), body);
    const hook = new Webhook(secret);
    expect(() => hook.verify(`${body} `, headers)).toThrow('No matching signature found');
    expect(() => hook.verify(body, { ...headers, 'webhook-id': 'delivery-2' })).toThrow('No matching signature found');
    expect(() => hook.verify(body, { ...headers, 'webhook-timestamp': String(now() - 1) })).toThrow(
      'No matching signature found',
    );
    // A timestamp outside the receiver's tolerance (5 minutes) is refused even with its own signature.
    expect(() => hook.verify(body, standardWebhookHeaders(secret, 'delivery-1', now() - 600, body))).toThrow(
      'Message timestamp too old',
    );
  });

  it('keeps the deprecated X-CIMD-Signature as it was: the secret string as the key, hex', () => {
    expect(webhookSignature('webhook-secret-0123456789abcdef', '{}', 1700000000)).toBe(
      't=1700000000,v1=8b438c3fa76f3290e2306f52a6d669e310a1d24b4feee2a79f07eb630263342c',
    );
  });
});
