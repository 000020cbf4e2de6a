import { runProxyService } from '../../compose/run-proxy.js';
import { loadConfig, requireTokenSettings } from '../../config/load.js';
import { proxyServiceOptions } from '../../config/options.js';
import { helpText } from '../../config/schema.js';
import { createLogger } from '../../observe/log.js';
import type { Command } from '../usage.js';

export const proxy: Command = async (argv) => {
  const config = loadConfig('proxy', argv);
  if (config.help) {
    console.log(helpText('proxy', 'tokenwarden proxy --upstream URL [options]'));
    return 0;
  }
  requireTokenSettings(config);
  const options = proxyServiceOptions(config);
  return runProxyService({ ...options, logger: createLogger(config.logLevel) });
};
