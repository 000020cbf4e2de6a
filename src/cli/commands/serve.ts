import { runService } from '../../compose/run.js';
import { loadConfig, requireTokenSettings } from '../../config/load.js';
import {
  authenticationOptions,
  authorizationOptions,
  listenOptions,
  sidecarOptions,
} from '../../config/options.js';
import { helpText } from '../../config/schema.js';
import { createLogger } from '../../observe/log.js';
import type { Command } from '../usage.js';

export const serve: Command = async (argv) => {
  const config = loadConfig('serve', argv);
  if (config.help) {
    console.log(helpText('serve', 'tokenwarden serve [options]'));
    return 0;
  }
  requireTokenSettings(config, config.rbacPolicyFiles.length > 0);
  const authorization = authorizationOptions(config);
  return runService({
    authentication: authenticationOptions(config),
    ...(authorization ? { authorization } : {}),
    listen: listenOptions(config),
    ...(config.proxy.checkEndpoint ? { check: sidecarOptions(config) } : {}),
    logger: createLogger(config.logLevel),
  });
};
