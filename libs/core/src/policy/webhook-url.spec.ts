import { checkWebhookUrl } from './webhook-url';
import { WEBHOOK_URL_CASES } from './webhook-url.cases';

describe('checkWebhookUrl: what a policy save refuses (SPEC-NOTES 5)', () => {
  it.each(WEBHOOK_URL_CASES)('SPEC-NOTES $rule: $name ($url)', ({ url, ports, errors }) => {
    const finding = checkWebhookUrl(url, ports);
    expect(finding ? [finding.code] : []).toEqual(errors);
    if (finding) {
      expect(finding.field).toBe('webhook.url');
      expect(finding.message.length).toBeGreaterThan(20);
    }
  });

  it('says which range an address is in', () => {
    expect(checkWebhookUrl('https://169.254.169.254/latest/meta-data/')?.message).toBe(
      'the webhook host is an address deliveries never go to: 169.254.169.254 is in 169.254.0.0/16, link-local (cloud metadata 169.254.169.254)',
    );
    expect(checkWebhookUrl('https://h.example:80/x', [443, 8443])?.message).toBe(
      'the webhook URL names port 80; this deployment delivers to port 443, 8443 only',
    );
  });
});
