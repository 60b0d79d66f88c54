'use strict';
/**
 * Documents shaped like the real-world corpus (test/fixtures/real-world): every document of it
 * that validates, moved to the client_id under test. Served by the local origin, and written
 * as cache entries for the memory scenario.
 */
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { ROOT, core } = require('./dist');

const CORPUS = path.join(ROOT, 'test', 'fixtures', 'real-world');
const DEFAULT_POLICY = core.parseTenantPolicy({}).policy;

/** Every corpus document that is valid at its own client_id. */
function validCorpus() {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(CORPUS, file), 'utf8')) }))
    .filter(({ json }) => core.validateMetadataDocument(json, { clientId: json.client_id }).valid);
}

/**
 * Templates: the corpus documents that are valid at their own client_id, and still valid and
 * allowed by the default tenant policy once moved to `sampleClientId` (a bench host).
 * `served`: without logo_uri, since the local origin has no logos and the fetcher would
 * otherwise try to prefetch them from the internet.
 */
function loadTemplates(sampleClientId) {
  const templates = [];
  for (const { file, json } of validCorpus()) {
    const redirectUri = Array.isArray(json.redirect_uris) ? json.redirect_uris[0] : undefined;
    if (typeof redirectUri !== 'string') continue;
    const t = { file, json, redirectUri };
    const moved = served(t, sampleClientId);
    const check = core.validateMetadataDocument(moved, { clientId: sampleClientId });
    if (!check.valid) continue;
    const decision = core.decideAuthorization({
      request: checkBody(t, sampleClientId),
      document: check,
      policy: DEFAULT_POLICY,
    });
    if (decision.decision === 'allow') templates.push(t);
  }
  if (templates.length === 0) throw new Error(`no usable document in ${CORPUS}`);
  return templates;
}

/** A public key set served for the documents that declare a jwks_uri (a P-256 key; nothing secret). */
const JWKS = {
  keys: [
    {
      kty: 'EC',
      crv: 'P-256',
      kid: 'bench',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
  ],
};
const JWKS_PATH = '/jwks.json';

/**
 * The template as a client at `clientId` would publish it, minus the logo (see above), with its
 * jwks_uri (if any) on its own host, where the local origin serves JWKS.
 */
function served(template, clientId) {
  const doc = { ...template.json, client_id: clientId };
  delete doc.logo_uri;
  if (doc.jwks_uri !== undefined) doc.jwks_uri = new URL(JWKS_PATH, clientId).toString();
  return doc;
}

/** The authorize check an authorization server sends for this client. */
function checkBody(template, clientId) {
  return { client_id: clientId, redirect_uri: template.redirectUri, code_challenge_method: 'S256' };
}

module.exports = { CORPUS, DEFAULT_POLICY, JWKS, JWKS_PATH, validCorpus, loadTemplates, served, checkBody };
