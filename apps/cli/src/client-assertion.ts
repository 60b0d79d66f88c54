import { ASSERTION_ALGS, AssertionAlg, CLIENT_AUTH_JWT_TYP, JWT_BEARER_ASSERTION_TYPE } from '@cimd/core';
import { importJWK, importPKCS8, type JWK, SignJWT } from 'jose';
import { createPrivateKey, KeyObject, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from './input';
import { jsonLine } from './output';

export interface ClientAssertionOptions {
  key: string;
  clientId: string;
  aud: string;
  kid?: string;
  alg?: string;
  lifetime: string;
  json?: boolean;
}

/** The most assertions are allowed to live by default at a tenant: what `--lifetime` may ask. */
const MAX_LIFETIME_SECONDS = 300;

/**
 * A client assertion (RFC 7523 §2.2) as a client would send it to a token endpoint: signed with
 * the client's private key (a PKCS #8 PEM or a private JWK), `iss` = `sub` = the client_id,
 * `aud` = the authorization server, a short life, a fresh `jti`, typ oauth-client-auth+jwt.
 */
export async function clientAssertion(opts: ClientAssertionOptions): Promise<string> {
  const lifetime = Number(opts.lifetime);
  if (!/^\d+$/.test(opts.lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_SECONDS)
    throw new UsageError(
      `--lifetime must be a whole number of seconds from 1 to ${MAX_LIFETIME_SECONDS}; got ${JSON.stringify(opts.lifetime)}.`,
    );
  let text: string;
  try {
    text = await readFile(opts.key, 'utf8');
  } catch (e) {
    throw new UsageError(`--key: cannot read ${opts.key} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  const { key, alg, kid } = await privateKey(text, opts.alg, opts.kid);
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg, typ: CLIENT_AUTH_JWT_TYP, ...(kid !== undefined ? { kid } : {}) })
    .setIssuer(opts.clientId)
    .setSubject(opts.clientId)
    .setAudience(opts.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(key);
  return opts.json
    ? jsonLine({ client_id: opts.clientId, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: jwt })
    : `${jwt}\n`;
}

async function privateKey(
  text: string,
  algOption: string | undefined,
  kidOption: string | undefined,
): Promise<{ key: CryptoKey | Uint8Array | KeyObject; alg: AssertionAlg; kid?: string }> {
  if (text.trimStart().startsWith('{')) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(text) as JWK;
    } catch {
      throw new UsageError('--key: the file starts like JSON but is not valid JSON.');
    }
    if (typeof jwk.d !== 'string')
      throw new UsageError('--key: this JWK is a public key; sign with the private key (a JWK with "d").');
    const alg = allowed(algOption ?? jwk.alg ?? defaultAlg(jwk.kty, jwk.crv));
    try {
      return { key: (await importJWK(jwk, alg)) as CryptoKey, alg, kid: kidOption ?? jwk.kid };
    } catch (e) {
      throw new UsageError(`--key: the JWK cannot sign with ${alg} (${(e as Error).message}).`);
    }
  }
  let parsed: KeyObject;
  try {
    parsed = createPrivateKey(text);
  } catch {
    throw new UsageError('--key: not a private key in PEM or a private JWK.');
  }
  const curve = parsed.asymmetricKeyDetails?.namedCurve;
  const kty =
    parsed.asymmetricKeyType === 'rsa'
      ? 'RSA'
      : parsed.asymmetricKeyType === 'ec'
        ? 'EC'
        : parsed.asymmetricKeyType === 'ed25519'
          ? 'OKP'
          : '';
  const crv =
    curve === 'prime256v1'
      ? 'P-256'
      : curve === 'secp384r1'
        ? 'P-384'
        : curve === 'secp521r1'
          ? 'P-521'
          : kty === 'OKP'
            ? 'Ed25519'
            : undefined;
  const alg = allowed(algOption ?? defaultAlg(kty, crv));
  const pkcs8 = parsed.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    return {
      key: await importPKCS8(pkcs8, alg),
      alg,
      ...(kidOption !== undefined ? { kid: kidOption } : {}),
    };
  } catch (e) {
    throw new UsageError(`--key: the key cannot sign with ${alg} (${(e as Error).message}).`);
  }
}

function defaultAlg(kty: string | undefined, crv: string | undefined): string {
  if (kty === 'RSA') return 'RS256';
  if (kty === 'EC') return crv === 'P-384' ? 'ES384' : crv === 'P-521' ? 'ES512' : 'ES256';
  if (kty === 'OKP' && crv === 'Ed25519') return 'EdDSA';
  throw new UsageError(`--key: a ${kty || 'key'} of this type cannot sign client assertions (RSA, EC or Ed25519).`);
}

function allowed(alg: string): AssertionAlg {
  if (!(ASSERTION_ALGS as readonly string[]).includes(alg))
    throw new UsageError(`--alg must be one of ${ASSERTION_ALGS.join(', ')}; got ${JSON.stringify(alg)}.`);
  return alg as AssertionAlg;
}

type CryptoKey = Awaited<ReturnType<typeof importPKCS8>>;
