import { readFileSync, writeFileSync } from 'node:fs';
import { configurationReference, withReadmeFlagTable } from '../dist/config/reference.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationReference());
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withReadmeFlagTable(readFileSync(readme, 'utf8')));
