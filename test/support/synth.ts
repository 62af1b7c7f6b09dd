// The sample stack's template from a config context, bundling skipped: for tests that read the template only.
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { type ConfigInput, loadConfig } from '#lib/config';
import { SalesNavExportStack } from '#lib/stack';

/** The `TestExport` stack of `context`, its template, and the logical id of any of its constructs. */
export function synthSampleStack(context: ConfigInput = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new SalesNavExportStack(app, 'TestExport', { config: loadConfig(context) });
  const template = Template.fromStack(stack);
  const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
  return { stack, template, logicalId };
}
