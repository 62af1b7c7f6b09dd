// The CDK app: one SalesNavExport stack per environment (config/<env>.json, -c env=<name>) or from context alone.
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '#lib/config';
import { describeEnvironment, loadEnvironments } from '#lib/config-files';
import { SalesNavExportStack } from '#lib/stack';

/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy [-c env=<name>]`, configured by config/<env>.json under the
 * CDK context (cdk.json, `-c key=value` for a one-off; see lib/config.ts). Synthesis prints what every
 * setting resolved to and where it came from. A bad setting ends it with one message and exit code 1.
 * `-c nag=true` runs the cdk-nag AwsSolutions checks and fails on any finding not acknowledged with a reason.
 */
const CONFIG_DIR = fileURLToPath(new URL('../config/', import.meta.url));

const app = new App();
let nag = false;
try {
  for (const environment of loadEnvironments(app.node, CONFIG_DIR)) {
    const { config } = environment;
    process.stderr.write(`${describeEnvironment(environment)}\n`);
    new SalesNavExportStack(app, config.stackName, {
      config,
      description: 'LinkedIn Sales Navigator analytics export (seat, activity, activity outcome) into S3',
    });
    nag ||= config.nag;
  }
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
