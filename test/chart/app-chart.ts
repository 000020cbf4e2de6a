// An application chart as docs/install.md describes it: its Deployment adds `tokenwarden proxy` and its volumes
// with the templates of charts/tokenwarden-sidecar, a dependency in its charts/.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIBRARY = fileURLToPath(new URL('../../charts/tokenwarden-sidecar', import.meta.url));

const APP_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      serviceAccountName: app
      initContainers:
        {{- include "tokenwarden.sidecar.container" .Values.tokenwarden | nindent 8 }}
      containers:
        - name: app
          image: registry.example/app:1.0.0
          args: [--listen=127.0.0.1:8080]
          readinessProbe:
            httpGet: { path: /healthz, port: {{ .Values.tokenwarden.port | default 8443 }}, scheme: HTTPS }
      volumes:
        {{- include "tokenwarden.sidecar.volumes" .Values.tokenwarden | nindent 8 }}
`;

/** An application chart in a temp dir with the library in its charts/, as `helm dependency build` leaves it. */
export function appChart(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwarden-app-chart-'));
  writeFileSync(
    join(dir, 'Chart.yaml'),
    'apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: tokenwarden-sidecar\n    version: 0.1.0\n',
  );
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates', 'deployment.yaml'), APP_DEPLOYMENT);
  cpSync(LIBRARY, join(dir, 'charts', 'tokenwarden-sidecar'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
