// The calling side: send the pod's projected token, re-read whenever the kubelet rotates it.
//   TOKEN_FILE=/var/run/secrets/tokens/api-token TARGET=https://api.internal/items node examples/projected-token.mjs
import { createProjectedTokenSource } from 'tokenwarden/projected-token';

const source = createProjectedTokenSource(
  process.env.TOKEN_FILE ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
);
const res = await fetch(process.env.TARGET ?? 'http://127.0.0.1:8080/api/whoami', {
  headers: { authorization: `Bearer ${source.token()}` },
});
console.log(res.status, await res.text());
