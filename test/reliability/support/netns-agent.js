/**
 * The part of the SSRF test that runs inside its network namespace (`ip netns exec NS node
 * netns-agent.js config.json`), started by `netns.ts`. Plain JavaScript so that it runs without
 * a compiler. It reports on stdout, one JSON object a line:
 *
 * - `{"ev":"listening","role","address","port"}` per listener, or `{"ev":"listen_error",…,"code"}`;
 * - `{"ev":"conn","role","address","port","local","remote"}` for every TCP connection accepted
 *   (before any TLS handshake, so a refused certificate still counts as reached);
 * - `{"ev":"sni","address","port","servername"}` when a TLS handshake names a host;
 * - `{"ev":"request","role","address","port","method","host","path"}` for HTTP requests on origins;
 * - `{"ev":"probe","target","port","ok","local"}` for its own check that each trap answers;
 * - `{"ev":"dns","name","type","answer"}` for every query to its DNS server (`dns` below);
 * - `{"ev":"ready"}` once everything listens and the probes are done.
 *
 * Config (JSON file): `tls {certPem, keyPem}`, `traps [{address, port, tls}]` (listeners that
 * must never be reached), `origins [{address, port, routes: {path: {status, headers, body}}}]`
 * (listeners that may be: the positive controls; a route with `sequence` answers with each in
 * turn), `forwards [{from, to}]` where each end is
 * `{path}` (a unix socket, which crosses network namespaces) or `{host, port}`, and `probes
 * [{host, port}]` (connections the agent makes itself to show the traps work), and `dns
 * {address, port, names}` (see `dns`).
 */
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const https = require('node:https');
const dgram = require('node:dgram');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function listen(server, role, address, port) {
  return new Promise((resolve) => {
    server.once('error', (e) => {
      emit({ ev: 'listen_error', role, address, port, code: e.code || e.message });
      resolve(false);
    });
    // ipv6Only: a "::" listener must not take IPv4 connections meant for the IPv4 one.
    server.listen({ host: address, port, ipv6Only: address.includes(':') }, () => {
      emit({ ev: 'listening', role, address, port });
      resolve(true);
    });
  });
}

function track(server, role, address, port) {
  server.on('connection', (socket) => {
    socket.on('error', () => undefined);
    emit({
      ev: 'conn',
      role,
      address,
      port,
      local: socket.localAddress,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    });
  });
}

function trap({ address, port, tls: useTls }) {
  let server;
  if (useTls) {
    server = tls.createServer({ cert: config.tls.certPem, key: config.tls.keyPem }, (socket) => {
      emit({ ev: 'sni', address, port, servername: socket.servername || null });
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 418 trap\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    server.on('tlsClientError', () => undefined);
  } else {
    server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 418 trap\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  }
  track(server, 'trap', address, port);
  return listen(server, 'trap', address, port);
}

function origin({ address, port, routes }) {
  const served = {};
  const server = https.createServer({ cert: config.tls.certPem, key: config.tls.keyPem }, (req, res) => {
    const path = (req.url || '/').split('?')[0];
    emit({ ev: 'request', role: 'origin', address, port, method: req.method, host: req.headers.host, path });
    req.resume();
    req.on('end', () => {
      let route = routes[path];
      if (route && route.sequence) {
        // Answers in turn, the last one from then on (a document that changes).
        served[path] = (served[path] || 0) + 1;
        route = route.sequence[Math.min(served[path], route.sequence.length) - 1];
      }
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const body = route.body === undefined ? '' : Buffer.from(route.body, route.base64 ? 'base64' : 'utf8');
      res.writeHead(route.status, route.headers || {}).end(body);
    });
  });
  track(server, 'origin', address, port);
  return listen(server, 'origin', address, port);
}

function endpoint(end) {
  return end.path !== undefined ? { path: end.path } : { host: end.host, port: end.port };
}

function forward({ from, to }) {
  const server = net.createServer((client) => {
    const upstream = net.connect(endpoint(to));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  if (from.path !== undefined) fs.rmSync(from.path, { force: true });
  return new Promise((resolve) => {
    server.once('error', (e) => {
      emit({ ev: 'listen_error', role: 'forward', address: from.path || from.host, port: from.port, code: e.code });
      resolve(false);
    });
    server.listen(endpoint(from), () => {
      emit({ ev: 'listening', role: 'forward', address: from.path || from.host, port: from.port });
      resolve(true);
    });
  });
}

/**
 * A tiny DNS server (UDP, A and AAAA only), so the fetcher's real resolver path (getaddrinfo,
 * through the namespace's resolv.conf) is tried too. `names` maps a lower-case name to a list
 * of answer sets: the n-th query of a name and type gets the n-th set (the last one from then
 * on), so a name can answer differently the second time (DNS rebinding). Unknown names are
 * NXDOMAIN. Every query is reported as `{"ev":"dns","name","type","answer"}`.
 */
function dns({ address, port, names }) {
  const server = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const asked = {};
  server.on('message', (msg, rinfo) => {
    if (msg.length < 17) return;
    let offset = 12;
    const labels = [];
    while (offset < msg.length && msg[offset] !== 0) {
      const length = msg[offset];
      labels.push(msg.subarray(offset + 1, offset + 1 + length).toString('latin1'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const qtype = msg.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const type = qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : String(qtype);
    const sets = names[name];
    const key = `${name} ${type}`;
    asked[key] = (asked[key] || 0) + 1;
    const set = sets ? sets[Math.min(asked[key], sets.length) - 1] : undefined;
    const answers = (set || []).filter((a) => (type === 'A' ? net.isIPv4(a) : type === 'AAAA' ? net.isIPv6(a) : false));
    emit({ ev: 'dns', name, type, answer: sets ? answers : 'NXDOMAIN' });
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (sets ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((a) => {
      const rdata = type === 'A' ? Buffer.from(a.split('.').map(Number)) : ipv6Bytes(a);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(0, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    server.send(Buffer.concat([header, msg.subarray(12, questionEnd), ...records]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    server.once('error', (e) => {
      emit({ ev: 'listen_error', role: 'dns', address, port, code: e.code });
      resolve(false);
    });
    server.bind(port, address, () => {
      emit({ ev: 'listening', role: 'dns', address, port });
      resolve(true);
    });
  });
}

function ipv6Bytes(address) {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = text.replace(v4[1], `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  return bytes;
}

function probe({ host, port }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      emit({ ev: 'probe', target: host, port, ok, local: ok ? socket.localAddress : undefined });
      socket.destroy();
      resolve();
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

async function main() {
  for (const t of config.traps || []) await trap(t);
  for (const o of config.origins || []) await origin(o);
  for (const f of config.forwards || []) await forward(f);
  if (config.dns) await dns(config.dns);
  for (const p of config.probes || []) await probe(p);
  emit({ ev: 'ready' });
}

process.on('SIGTERM', () => process.exit(0));
main().catch((e) => {
  emit({ ev: 'fatal', message: String((e && e.stack) || e) });
  process.exit(1);
});
