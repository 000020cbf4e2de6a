/**
 * Kube's bearer-token parsing (bearertoken.go): trim, split on single spaces into at
 * most three parts, scheme `bearer` in any case, the token is the second part only. An
 * empty second part (`"Bearer  x"`) is no credential at all.
 */
export function parseBearer(authorization: string): string | undefined {
  const auth = authorization.trim();
  if (auth === '') return undefined;
  const firstSpace = auth.indexOf(' ');
  if (firstSpace < 0 || auth.slice(0, firstSpace).toLowerCase() !== 'bearer') return undefined;
  const rest = auth.slice(firstSpace + 1);
  const secondSpace = rest.indexOf(' ');
  const token = secondSpace < 0 ? rest : rest.slice(0, secondSpace);
  return token === '' ? undefined : token;
}
