import { domainToUnicode } from 'node:url';

/** The two spellings of an internationalized host name. */
export interface IdnHostForms {
  /** As a person reads it (`аpple.test`, with a Cyrillic "а"): what a look-alike imitates. */
  unicode: string;
  /** As DNS and the client_id carry it (`xn--pple-43d.test`): plain ASCII, cannot pass for another name. */
  punycode: string;
}

const PUNYCODE_LABEL = /(?:^|\.)xn--/i;

/** Whether a host has a punycode (`xn--`) label: an internationalized name (IDNA, RFC 5891). */
export function hasPunycodeLabel(host: string): boolean {
  return PUNYCODE_LABEL.test(host);
}

/**
 * Both forms of a host with a punycode label, decoded by Node's WHATWG URL (UTS #46)
 * implementation; undefined for a host without one. A label that does not decode (which URL
 * parsing also refuses, so a checked client_id never has one) is shown as written.
 */
export function idnHostForms(host: string): IdnHostForms | undefined {
  if (!hasPunycodeLabel(host)) return undefined;
  const punycode = host.toLowerCase();
  const unicode = domainToUnicode(punycode);
  return { unicode: unicode === '' ? punycode : unicode, punycode };
}
