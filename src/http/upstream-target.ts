/** Where the proxy sends requests: an http(s) origin, or a unix socket (`unix:///run/app.sock`). */
export interface UpstreamTarget {
  readonly protocol: 'http:' | 'https:';
  readonly host: string;
  readonly port: number;
  readonly socketPath?: string;
}

/**
 * `--upstream`: `http://host:port`, `https://host:port` or `unix:///path/to.sock`. A path,
 * query or credentials in the URL are refused: the client's path and query go upstream
 * byte for byte, with nothing joined to them.
 */
export function parseUpstream(value: string): UpstreamTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`upstream "${value}" is not a URL`);
  }
  if (url.protocol === 'unix:') {
    if (url.pathname === '' || url.pathname === '/')
      throw new TypeError(`upstream "${value}": no socket path`);
    return { protocol: 'http:', host: 'localhost', port: 80, socketPath: decodeURIComponent(url.pathname) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`upstream "${value}" must be http://, https:// or unix://`);
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.username !== '' ||
    url.password !== ''
  )
    throw new TypeError(`upstream "${value}" must not carry a path, query or credentials`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { protocol: url.protocol, host: url.hostname.replace(/^\[|\]$/g, ''), port };
}
