// A Hono app that only service accounts of namespace `ns1` may call.
//   KEY_FILE=/path/sa.pub ISSUER=https://kubernetes.default.svc.cluster.local PORT=8080 node examples/hono-app.mjs
//   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/whoami
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createTokenVerifier } from 'tokenwarden';
import { tokenwardenAuth } from 'tokenwarden/hono';

const verifier = createTokenVerifier({
  issuers: [process.env.ISSUER ?? 'https://kubernetes.default.svc.cluster.local'],
  keyFiles: [process.env.KEY_FILE ?? '/etc/tokenwarden/sa.pub'],
});

const app = new Hono();
app.use('/api/*', tokenwardenAuth({ verifier, allow: { namespaces: ['ns1'] } }));
app.get('/api/whoami', (c) => c.json({ user: c.get('identity').username, groups: c.get('identity').groups }));

const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 8080) },
  (info) => console.log(`listening on ${info.port}`),
);
process.once('SIGTERM', () => {
  server.close();
  verifier.close();
});
