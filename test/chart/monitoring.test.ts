// The chart's Grafana dashboard and Prometheus alerts name only metrics a running tokenwarden exposes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePorts } from '../e2e/harness/net.js';
import { logLine, spawnCli } from '../helpers/cli.js';
import { suiteDir, writeFile } from '../helpers/files.js';
import { httpsRequest } from '../helpers/http.js';
import { authenticationConfigYaml, jwtIssuerYaml, serveIssuer } from '../helpers/idp.js';
import { ecKey, rsaKey } from '../helpers/keys.js';
import { servingTls, type ServingTls } from '../helpers/tls.js';
import { boundClaims, ISSUER, mintToken } from '../helpers/tokens.js';
import { startJwksServer, type JwksServer } from '../keys/jwks-server.js';
import { CHART } from './helm.js';
import { POLICIES } from './values-sets.js';
import { stringify } from 'yaml';
import type { ChildProcess } from 'node:child_process';

function namesIn(text: string): Set<string> {
  return new Set(text.match(/\btokenwarden_[a-z0-9_]+/g) ?? []);
}

/** Sample names a scrape can show: each family's own name, and a histogram's series. */
function exposedNames(metrics: string): Set<string> {
  const names = new Set<string>();
  for (const m of metrics.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

const alerts = readFileSync(join(CHART, 'files/alerts.yaml'), 'utf8');
const dashboard = readFileSync(join(CHART, 'files/dashboard.json'), 'utf8');

describe("the chart's dashboard and alerts", () => {
  let tls: ServingTls;
  let port: number;
  let idp: JwksServer;
  let child: ChildProcess;
  let files: { dir: string; remove(): void };
  let scraped: string;

  beforeAll(async () => {
    tls = await servingTls();
    [port] = (await freePorts(1)) as [number];
    idp = serveIssuer(await startJwksServer(), [ecKey()]);
    files = suiteDir('tokenwarden-monitoring-');
    const { dir } = files;
    const policy = writeFile(dir, 'policy.yaml', POLICIES.map((p) => stringify(p)).join('---\n'));
    const authn = writeFile(dir, 'authn.yaml', authenticationConfigYaml(jwtIssuerYaml(idp, 'idp:')));
    // Every kind of source, so that every metric family the files name has a reason to be exposed.
    child = spawnCli([
      'serve',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${writeFile(dir, 'tls.crt', tls.cert)}`,
      `--tls-private-key-file=${writeFile(dir, 'tls.key', tls.key)}`,
      `--service-account-issuer=${ISSUER}`,
      `--service-account-key-file=${writeFile(dir, 'sa.pub', rsaKey().publicPem)}`,
      `--service-account-jwks-uri=${ISSUER}=https://127.0.0.1:${idp.port}/missing`,
      `--service-account-jwks-ca-file=${writeFile(dir, 'idp-ca.crt', idp.tls.ca)}`,
      `--authentication-config=${authn}`,
      `--rbac-policy-file=${policy}`,
    ]);
    await logLine(child, 'tokenwarden is serving');
    const token = mintToken({ claims: boundClaims({}, Math.floor(Date.now() / 1000)) });
    const body = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    for (let i = 0; i < 2; i++)
      await httpsRequest({ port, ca: tls.ca, path: '/apis/authentication.k8s.io/v1/tokenreviews', body });
    scraped = (await httpsRequest({ port, ca: tls.ca, path: '/metrics' })).body;
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    files?.remove();
    await idp?.close();
  });

  it.each([
    ['files/alerts.yaml', alerts],
    ['files/dashboard.json', dashboard],
  ])('%s names only metrics tokenwarden exposes', (_file, text) => {
    const exposed = exposedNames(scraped);
    const used = namesIn(text);
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      expect(exposed, `${name} is not exposed by tokenwarden`).toContain(name);
    }
  });

  it('alerts on key staleness, reload failures, the error ratio and p99, each with a severity and a summary', () => {
    const groups = (
      parse(alerts) as {
        groups: {
          rules: {
            alert: string;
            expr: string;
            labels: { severity: string };
            annotations: { summary: string };
          }[];
        }[];
      }
    ).groups;
    const rules = groups.flatMap((g) => g.rules);
    for (const r of rules) {
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary).toMatch(/./);
    }
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    expect(byName.get('TokenwardenKeysStale')).toContain('tokenwarden_key_source_last_success_age_seconds');
    expect(byName.get('TokenwardenPolicyReloadFailing')).toContain(
      'tokenwarden_rbac_policy_reload_failures_total',
    );
    expect(byName.get('TokenwardenErrorRatio')).toContain('code=~"5.."');
    expect(byName.get('TokenwardenReviewLatencyHigh')).toContain('histogram_quantile(0.99');
  });

  it('charts request rate, errors, latency by route, decisions, cache hit ratio, key age and failures, and policy reloads', () => {
    const panels = (JSON.parse(dashboard) as { panels: { title: string; targets: { expr: string }[] }[] })
      .panels;
    const exprOf = (title: string): string => {
      const panel = panels.find((p) => p.title === title);
      expect(panel, title).toBeDefined();
      return panel!.targets.map((t) => t.expr).join('\n');
    };
    expect(exprOf('Request rate by route')).toContain('tokenwarden_http_requests_total');
    expect(exprOf('Errors by route and code')).toContain('code!~"2.."');
    expect(exprOf('Latency p50 / p99 by route')).toContain(
      'tokenwarden_http_request_duration_seconds_bucket',
    );
    expect(exprOf('Decisions')).toContain('tokenwarden_decisions_total');
    expect(exprOf('Token cache hit ratio')).toContain('tokenwarden_token_cache_hits_total');
    expect(exprOf('Key source age')).toContain('tokenwarden_key_source_last_success_age_seconds');
    expect(exprOf('Key load and fetch failures')).toContain('tokenwarden_key_source_fetch_failures_total');
    expect(exprOf('Policy reloads')).toContain('tokenwarden_rbac_policy_reload_failures_total');
  });
});
