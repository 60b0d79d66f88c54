import { Finding, quote } from '../findings';
import { checkAddress } from '../network/special-use-addresses';
import { splitUri, tryParseUrl } from '../uri/uri-parts';

/** The port of every webhook URL unless the deployment allows more. */
export const DEFAULT_WEBHOOK_PORTS: readonly number[] = [443];

/**
 * What can be known about a tenant's webhook URL when the policy is saved, before any event is
 * delivered (SPEC-NOTES 5): no credentials in it, no name that always means "this machine", no
 * IP literal in a special-use range (in any spelling URL parsers read as one), and a port the
 * deployment delivers to. Names that resolve to such addresses are refused at delivery by the
 * fetcher's guard, which stays the one that decides. `url` is an https URL (the policy schema
 * checked that). Undefined when nothing is wrong.
 */
export function checkWebhookUrl(
  url: string,
  allowedPorts: readonly number[] = DEFAULT_WEBHOOK_PORTS,
): Finding | undefined {
  const field = 'webhook.url';
  const parsed = tryParseUrl(url);
  if (!parsed) return undefined;
  if (splitUri(url).userinfo !== undefined || parsed.username !== '' || parsed.password !== '') {
    return {
      code: 'webhook_url.userinfo',
      message: 'the webhook URL must not contain a username or password (the part before "@" in the host)',
      field,
    };
  }
  const host = parsed.hostname.replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return {
      code: 'webhook_url.localhost',
      message: `the webhook host ${quote(parsed.hostname)} is a localhost name (RFC 6761), which always means this machine`,
      field,
    };
  }
  // WHATWG URL writes every IPv4 spelling (0x7f.1, 2130706433, 127.1) as a dotted quad.
  const literal = host.startsWith('[') ? host.slice(1, -1) : /^[\d.]+$/.test(host) ? host : undefined;
  if (literal !== undefined) {
    const verdict = checkAddress(literal);
    if (verdict.blocked) {
      return {
        code: 'webhook_url.special_use_address',
        message: `the webhook host is an address deliveries never go to: ${verdict.reason}`,
        field,
      };
    }
  }
  const port = parsed.port === '' ? 443 : Number(parsed.port);
  if (!allowedPorts.includes(port)) {
    return {
      code: 'webhook_url.port_not_allowed',
      message: `the webhook URL names port ${port}; this deployment delivers to port ${allowedPorts.join(', ')} only`,
      field,
    };
  }
  return undefined;
}
