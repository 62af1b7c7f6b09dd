// The CRM data validation part of the stack: five functions with per-prefix IAM, the ExportCrmJob state machine, ExportRun's ExportCrm map.
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import type { CrmWorkflowFunctions } from '#lib/crm-workflow';
import { SalesNavExportStack } from '#lib/stack';

const INSTANCE = 'urn:li:crmInstance:(DYNAMICS,362a3584-0d9b-44a1-a547-25de5cd95d08)';
let stack: SalesNavExportStack;
let template: Template;

beforeAll(() => {
  // Bundling is skipped: these tests are about the template, not the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new SalesNavExportStack(app, 'CrmExport', {
    config: loadConfig({ bucketPrefix: 'team/salesnav', crmInstances: JSON.stringify([INSTANCE]) }),
  });
  template = Template.fromStack(stack);
});

const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const objects = (prefix: string) => `<${logicalId(stack.bucket)}.Arn>/team/salesnav/${prefix}/*`;

function grants(roleConstruct: IConstruct): Map<string, string[]> {
  const roleId = stack.getLogicalId(roleConstruct.node.defaultChild as CfnElement);
  const result = new Map<string, string[]>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    if (!(policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId)) continue;
    for (const s of policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]) {
      for (const action of [s.Action].flat() as string[]) {
        result.set(action, [...(result.get(action) ?? []), ...[s.Resource].flat().map(flattenIntrinsics)]);
      }
    }
  }
  return result;
}
const crmGrants = (fn: keyof CrmWorkflowFunctions) =>
  grants(stack.crmFunctions[fn].role ?? stack.crmFunctions[fn]);
const s3 = (g: Map<string, string[]>) =>
  Object.fromEntries(
    [...g].filter(([a]) => a.startsWith('s3:')).map(([a, r]) => [a, [...new Set(r)].sort()]),
  );

describe('CRM functions', () => {
  it('get exactly the S3 prefixes their code writes and reads', () => {
    expect(s3(crmGrants('createCrmJob'))).toEqual({});
    expect(s3(crmGrants('checkCrmJob'))).toEqual({});
    expect(s3(crmGrants('copyCrmPart'))).toEqual({
      's3:AbortMultipartUpload': [objects('crm-data-validation')],
      's3:PutObject': [objects('crm-data-validation')],
    });
    expect(s3(crmGrants('commitCrmExport'))).toEqual({
      's3:GetObject': [objects('state/crm-data-validation')],
      's3:ListBucket': [`<${logicalId(stack.bucket)}.Arn>`],
      's3:PutObject': [
        objects('crm-data-validation'),
        objects('manifests'),
        objects('state/crm-data-validation'),
      ].sort(),
    });
    expect(s3(crmGrants('recordCrmFailure'))).toEqual({ 's3:PutObject': [objects('manifests')] });
    // PlanRun reads the cursors.
    expect(s3(grants(stack.functions.planRun.role ?? stack.functions.planRun))['s3:GetObject']).toContain(
      objects('state/crm-data-validation'),
    );
  });

  it('only the functions that call LinkedIn may read the token secret', () => {
    const secret = `<${stack.getLogicalId(stack.tokenSecret.node.defaultChild as CfnElement)}>`;
    for (const fn of ['createCrmJob', 'checkCrmJob', 'copyCrmPart'] as const) {
      expect(crmGrants(fn).get('secretsmanager:GetSecretValue')).toEqual([secret]);
    }
    for (const fn of ['commitCrmExport', 'recordCrmFailure'] as const) {
      expect(crmGrants(fn).has('secretsmanager:GetSecretValue')).toBe(false);
    }
  });

  it('carry the configured instances in EXPORT_SETTINGS', () => {
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack.crmFunctions.createCrmJob)];
    const settings = JSON.parse(fn?.Properties.Environment.Variables.EXPORT_SETTINGS);
    expect(settings.crm.instances).toEqual([INSTANCE]);
  });
});

describe('CRM state machines', () => {
  it('ExportCrmJob exists, and ExportRun starts it from its ExportCrm map (may start, follow and stop its executions)', () => {
    const run = template.findResources('AWS::StepFunctions::StateMachine')[logicalId(stack.exportRun)];
    if (!run) throw new Error('no ExportRun state machine in the template');
    const [sep, parts] = run.Properties.DefinitionString['Fn::Join'] as [string, unknown[]];
    const asl = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : flattenIntrinsics(p))).join(sep));
    expect(asl.States.HasCrmItems.Choices[0]).toMatchObject({
      Variable: '$.crmItems',
      IsPresent: true,
      Next: 'ExportCrm',
    });
    expect(asl.States.ExportCrm.ItemsPath).toBe('$.crmItems');
    const runCrm = asl.States.ExportCrm.ItemProcessor.States.RunCrmItem;
    expect(runCrm.Resource).toContain('states:startExecution.sync:2');
    expect(runCrm.Parameters.StateMachineArn).toBe(`<${logicalId(stack.exportCrmJob)}>`);
    const runGrants = grants(stack.exportRun.role);
    expect(runGrants.get('states:StartExecution')).toContain(`<${logicalId(stack.exportCrmJob)}>`);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'CrmExport-ExportCrmJob',
    });
  });
});
