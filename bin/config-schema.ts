// Writes config/schema.json, the JSON Schema of config/<env>.json generated from the zod schema (npm run config:schema).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '#lib/config';

const path = fileURLToPath(new URL('../config/schema.json', import.meta.url));
writeFileSync(path, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path}\n`);
