import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type Crypto = typeof webcrypto;

/** A certificate authority made for one test run or demo, and certificates it issues. */
export interface TestPki {
  caPem: string;
  issue(
    names: string[],
    options?: { validDays?: number; notBefore?: Date },
  ): Promise<{ certPem: string; keyPem: string }>;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Create a fresh CA (ECDSA P-256, valid one day). Nothing is written to disk. */
export async function createTestPki(commonName = 'cimd-gateway test CA'): Promise<TestPki> {
  const crypto: Crypto = webcrypto;
  x509.cryptoProvider.set(crypto as never);
  const now = Date.now();
  const caKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    caPem: ca.toString('pem'),
    async issue(names, options = {}) {
      const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
      const cert = await x509.X509CertificateGenerator.create({
        subject: `CN=${names[0] ?? 'localhost'}`,
        issuer: ca.subject,
        notBefore,
        notAfter: new Date(notBefore.getTime() + (options.validDays ?? 1) * 86_400_000),
        signingAlgorithm: ALG,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.SubjectAlternativeNameExtension(
            names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 'ip', value: n } : { type: 'dns', value: n })),
          ),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.BasicConstraintsExtension(false),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
      const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
      return { certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
    },
  };
}
