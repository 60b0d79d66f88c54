import type { RuleCode } from '../findings';

/** One row per check of a webhook URL at save time; `ports`: what the deployment allows (443 unless set). */
export interface WebhookUrlCase {
  rule: string;
  name: string;
  url: string;
  ports?: number[];
  errors: RuleCode[];
}

export const WEBHOOK_URL_CASES: WebhookUrlCase[] = [
  { rule: '5', name: 'a public name on 443', url: 'https://hooks.example.com/cimd', errors: [] },
  { rule: '5', name: 'a public name with :443 written out', url: 'https://hooks.example.com:443/cimd', errors: [] },
  { rule: '5', name: 'a public IPv4 address', url: 'https://93.184.215.14/hook', errors: [] },
  {
    rule: '5',
    name: 'a public IPv6 address',
    url: 'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook',
    errors: [],
  },
  { rule: '5', name: 'loopback', url: 'https://127.0.0.9/hook', errors: ['webhook_url.special_use_address'] },
  { rule: '5', name: 'IPv6 loopback', url: 'https://[::1]/hook', errors: ['webhook_url.special_use_address'] },
  {
    rule: '5',
    name: 'cloud metadata',
    url: 'https://169.254.169.254/latest/meta-data/',
    errors: ['webhook_url.special_use_address'],
  },
  { rule: '5', name: 'private use', url: 'https://10.1.2.3/hook', errors: ['webhook_url.special_use_address'] },
  {
    rule: '5',
    name: 'loopback in hex and short form',
    url: 'https://0x7f.1/hook',
    errors: ['webhook_url.special_use_address'],
  },
  {
    rule: '5',
    name: 'loopback as one number',
    url: 'https://2130706433/hook',
    errors: ['webhook_url.special_use_address'],
  },
  {
    rule: '5',
    name: 'metadata as an IPv4-mapped IPv6 address',
    url: 'https://[::ffff:a9fe:a9fe]/hook',
    errors: ['webhook_url.special_use_address'],
  },
  {
    rule: '5',
    name: 'metadata behind the NAT64 prefix',
    url: 'https://[64:ff9b::169.254.169.254]/hook',
    errors: ['webhook_url.special_use_address'],
  },
  {
    rule: '5',
    name: 'unique local IPv6',
    url: 'https://[fd00:ec2::254]/hook',
    errors: ['webhook_url.special_use_address'],
  },
  { rule: '5', name: 'localhost', url: 'https://localhost/hook', errors: ['webhook_url.localhost'] },
  {
    rule: '5',
    name: 'LOCALHOST with a trailing dot',
    url: 'https://LOCALHOST./hook',
    errors: ['webhook_url.localhost'],
  },
  { rule: '5', name: 'a *.localhost name', url: 'https://api.localhost/hook', errors: ['webhook_url.localhost'] },
  { rule: '5', name: 'a name that only starts like localhost', url: 'https://localhost.example.com/h', errors: [] },
  {
    rule: '5',
    name: 'user and password',
    url: 'https://user:pass@hooks.example.com/h',
    errors: ['webhook_url.userinfo'],
  },
  {
    rule: '5',
    name: 'a public name before "@" (the host is the address after it)',
    url: 'https://hooks.example.com@169.254.169.254/h',
    errors: ['webhook_url.userinfo'],
  },
  { rule: '5', name: 'an empty userinfo', url: 'https://@hooks.example.com/h', errors: ['webhook_url.userinfo'] },
  { rule: '5', name: 'port 80', url: 'https://hooks.example.com:80/h', errors: ['webhook_url.port_not_allowed'] },
  { rule: '5', name: 'port 8443', url: 'https://hooks.example.com:8443/h', errors: ['webhook_url.port_not_allowed'] },
  {
    rule: '5',
    name: 'port 8443 when the deployment allows it',
    url: 'https://hooks.example.com:8443/h',
    ports: [443, 8443],
    errors: [],
  },
  {
    rule: '5',
    name: '443 when the deployment allows only 8443',
    url: 'https://hooks.example.com/h',
    ports: [8443],
    errors: ['webhook_url.port_not_allowed'],
  },
  {
    rule: '5',
    name: 'an allowed port does not make a special-use address deliverable',
    url: 'https://127.0.0.1:8443/h',
    ports: [8443],
    errors: ['webhook_url.special_use_address'],
  },
];
