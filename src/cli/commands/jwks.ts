import { loadConfig } from '../../config/load.js';
import { helpText } from '../../config/schema.js';
import { FileKeySource } from '../../keys/file.js';
import { toJwks } from '../../keys/parse.js';
import { UsageError, type Command } from '../usage.js';

/** `tokenwarden jwks`: the JWKS of the given key files, with kube-apiserver's kids. */
export const jwks: Command = async (argv) => {
  const config = loadConfig('jwks', argv);
  if (config.help) {
    console.log(helpText('jwks', 'tokenwarden jwks --service-account-key-file FILE ...'));
    return 0;
  }
  if (config.positionals.length > 0)
    throw new UsageError(`jwks takes no arguments (got ${config.positionals.length})`);
  if (config.serviceAccountKeyFiles.length === 0)
    throw new UsageError('--service-account-key-file is a required flag');
  const source = new FileKeySource({ paths: config.serviceAccountKeyFiles });
  console.log(JSON.stringify(toJwks(source.snapshot().keys), null, 2));
  source.close();
  return 0;
};
