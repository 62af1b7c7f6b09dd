// The CDK app: reads the configuration from context and synthesizes the SalesNavExport stack.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '#lib/config';
import { SalesNavExportStack } from '#lib/stack';

/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`, configured through CDK context (see lib/config.ts).
 * `-c nag=true` runs the cdk-nag AwsSolutions checks during synthesis and fails on any finding that
 * is not acknowledged with a reason.
 */
const app = new App();
const config = loadConfig(app.node);

new SalesNavExportStack(app, config.stackName, {
  config,
  description: 'LinkedIn Sales Navigator analytics export (seat, activity, activity outcome) into S3',
});

if (config.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
