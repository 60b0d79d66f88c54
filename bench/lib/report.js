'use strict';
/** The Markdown report: one table, the targets, what each measurement kept the CPUs busy with. */

const n = (x, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : String(x);

const DESCRIBE = {
  authorize_hit: (m) => [
    `${n(m.rps)} req/s max; at ${n(m.half_rate_rps)} req/s (half): p50 ${n(m.p50_ms, 2)} ms, p99 ${n(m.p99_ms, 2)} ms; ${n(m.cpu_us_per_request)} µs CPU per check; ${n(100 * m.local_cache_hit_ratio)} % from the in-process copy`,
    `baseline ${n(m.baseline_rps)} req/s max (ratio **${n(m.ratio, 2)}**); at ${n(m.half_rate_rps)} req/s: p50 ${n(m.baseline_p50_ms, 2)} ms, p99 ${n(m.baseline_p99_ms, 2)} ms; ${n(m.baseline_cpu_us_per_request)} µs CPU per check`,
  ],
  authorize_hit_grpc: (m) => [
    `${n(m.rps)} calls/s max (${n(m.concurrency)} in flight on one channel); at ${n(m.half_rate_rps)} calls/s (half): p50 ${n(m.p50_ms, 2)} ms, p99 ${n(m.p99_ms, 2)} ms; ${n(m.cpu_us_per_request)} µs CPU per check`,
    `bare grpc-js baseline ${n(m.baseline_rps)} calls/s max (ratio **${n(m.ratio, 2)}**); at ${n(m.half_rate_rps)} calls/s: p50 ${n(m.baseline_p50_ms, 2)} ms, p99 ${n(m.baseline_p99_ms, 2)} ms; ${n(m.baseline_cpu_us_per_request)} µs CPU per check`,
  ],
  client_authenticate: (m) => [
    `${n(m.rps)} verifications/s max (fresh ${m.alg} assertion each, keys from jwks_uri cached, jti stored); p50 ${n(m.p50_ms, 2)} ms; ${n(m.cpu_us_per_request)} µs CPU each`,
    `jose in bare node:http: ${n(m.baseline_rps)} verifications/s (ratio **${n(m.ratio, 2)}**); ${n(m.baseline_cpu_us_per_request)} µs CPU each`,
  ],
  authorize_miss: (m) => [
    `p50 ${n(m.p50_ms, 1)} ms, p99 ${n(m.p99_ms, 1)} ms (${n(m.samples)} samples)`,
    `inline fetch + validate: p50 ${n(m.inline_p50_ms, 1)} ms, p99 ${n(m.inline_p99_ms, 1)} ms (ratio ${n(m.ratio, 2)})`,
  ],
  herd: (m) => [
    `${n(m.answered)} of ${n(m.concurrent)} answered, ${n(m.origin_requests)} origin request(s); ${n(m.waited_on_fetch)} waited on the fetch; p50 ${n(m.p50_ms)} ms, max ${n(m.max_ms)} ms`,
    '—',
  ],
  fetcher_throughput: (m) => [
    `${n(m.jobs_per_s)} jobs/s (${n(m.jobs)} jobs in ${n(m.seconds, 2)} s; concurrency ${m.concurrency}, ${m.hosts} hosts; fetcher CPU ${n(m.fetcher_cpu_percent)} %, ${n(m.fetcher_cpu_ms_per_job, 2)} ms per job = ${n(m.jobs_per_cpu_second)} jobs per CPU-second; ${n(m.tls_handshakes)} TLS handshakes for ${n(m.origin_requests)} requests)`,
    `a new TLS connection per fetch: ${n(m.new_connection_jobs_per_s)} jobs/s, ${n(m.new_connection_fetcher_cpu_ms_per_job, 2)} ms per job = ${n(m.new_connection_jobs_per_cpu_second)} jobs per CPU-second (${n(m.new_connection_tls_resumed)} of ${n(m.new_connection_tls_handshakes)} handshakes resumed); per job elsewhere: gateway ${n(m.gateway_cpu_ms_per_job, 2)} ms, Redis ${n(m.redis_cpu_ms_per_job, 2)} ms, PostgreSQL ${n(m.postgres_cpu_ms_per_job, 2)} ms CPU, ${n(m.postgres_bytes_per_event)} PostgreSQL bytes per event, ${n(m.postgres_bytes_per_client)} per client`,
  ],
  redis_bytes_per_client: (m) => [
    `${n(m.bytes_per_client)} bytes/client (${n(m.clients)} clients; freed on delete ${n(m.freed_bytes_per_client)}; MEMORY USAGE ${n(m.memory_usage_sample_bytes)})`,
    `entry JSON ${n(m.entry_json_bytes)} bytes, of which document ${n(m.document_json_bytes)}; key ${n(m.key_bytes)}; a session ${n(m.bytes_per_session)} bytes (JSON ${n(m.session_json_bytes)}, key ${n(m.session_key_bytes)}); a stream event ${n(m.stream_bytes_per_event)} bytes`,
  ],
  revocation_fanout: (m) => [
    `${n(m.sessions)} sessions in ${n(m.tenants)} tenants inactive and events out ${n(m.seconds, 2)} s after the confirmed gone`,
    `bulk UPDATE alone (EXPLAIN ANALYZE): ${n(m.update_ms)} ms; 404 → confirmed gone: ${n(m.detect_seconds, 2)} s; PostgreSQL ${n(m.postgres_bytes_per_session)} bytes per session (table ${n(m.postgres_heap_bytes_per_session)}, the rest indexes)`,
  ],
};

function formatMarkdown(results) {
  const lines = [];
  const m = results.machine ?? {};
  lines.push(`# cimd-gateway benchmarks (${results.mode} run, ${results.started_at})`, '');
  lines.push(
    `Machine: ${m.nproc ?? '?'} × ${m.cpu ?? '?'}, ${m.memory_gb ?? '?'} GB; Node ${m.node ?? process.version}, Redis ${m.redis ?? '?'}, PostgreSQL ${m.postgres ?? '?'}; load generator ${results.generator.name} ${results.generator.version}; ${results.duration_s ?? '?'} s in all.`,
  );
  if (results.mode === 'quick')
    lines.push('', '**Quick run: tiny sizes, to check the harness. The numbers mean nothing.**');
  lines.push('', '| scenario | measured | compared with | target | |', '| --- | --- | --- | --- | --- |');
  for (const [name, metrics] of Object.entries(results.scenarios)) {
    const [measured, compared] = (DESCRIBE[name] ?? (() => [JSON.stringify(metrics), '—']))(metrics);
    const target = results.targets[name];
    lines.push(`| ${name} | ${measured} | ${compared} | ${target.text} | ${target.met ? 'met' : '**MISSED**'} |`);
  }
  for (const name of Object.keys(results.errors))
    lines.push(`| ${name} | **failed** (see latest.json "errors") | | | |`);

  const missed = Object.entries(results.targets).filter(([, t]) => !t.met);
  if (missed.length > 0) {
    lines.push(
      '',
      `Missed: ${missed.map(([name]) => name).join(', ')}. bench/README.md says what limits each (profiles, SLOWLOG, EXPLAIN ANALYZE).`,
    );
  }
  const cpu = Object.entries(results.details ?? {}).filter(([, d]) => d.cpu_percent);
  if (cpu.length > 0) {
    lines.push('', 'CPU while measuring, % of one core (machine: % of all cores):', '');
    for (const [name, d] of cpu) {
      const phases = d.cpu_percent.machine !== undefined ? { '': d.cpu_percent } : d.cpu_percent;
      for (const [phase, usage] of Object.entries(phases)) {
        const parts = Object.entries(usage)
          .filter(([, v]) => Number.isFinite(v))
          .map(([k, v]) => `${k} ${v}`);
        lines.push(`- ${name}${phase ? ` (${phase})` : ''}: ${parts.join(', ')}`);
      }
    }
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

module.exports = { formatMarkdown };
