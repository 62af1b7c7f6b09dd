import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config';
import { flattenIntrinsics } from '#lib/constructs/nag';
import { synthSampleStack } from '#test/support/synth';

const synth = synthSampleStack;

type Statement = Record<string, unknown>;

/** The statements of the resource policy attached to the secret `secretId`. */
function secretPolicy(template: Template, secretId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy')).filter(
    (p) => JSON.stringify(p.Properties.SecretId) === JSON.stringify({ Ref: secretId }),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.ResourcePolicy.Statement as Statement[];
}

/** The role logical ids whose IAM policies allow secretsmanager:GetSecretValue on `secretId`. */
function rolesAllowedToRead(template: Template, secretId: string): string[] {
  const roles = new Set<string>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const reads = (policy.Properties.PolicyDocument.Statement as Statement[]).some(
      (s) =>
        s.Effect === 'Allow' &&
        [s.Action].flat().includes('secretsmanager:GetSecretValue') &&
        JSON.stringify([s.Resource].flat()) === JSON.stringify([{ Ref: secretId }]),
    );
    if (reads) for (const { Ref } of policy.Properties.Roles as { Ref: string }[]) roles.add(Ref);
  }
  return [...roles].sort();
}

/** The principals the Deny statement exempts, as role logical ids (`Fn::GetAtt`) and literal ARNs. */
function exempted(statement: Statement | undefined): { roles: string[]; arns: string[] } {
  const condition = statement?.Condition as { ArnNotLike: { 'aws:PrincipalArn': unknown[] } };
  const values = condition.ArnNotLike['aws:PrincipalArn'];
  const roles = values
    .filter((v): v is { 'Fn::GetAtt': [string, string] } => typeof v === 'object' && v !== null)
    .map((v) => {
      expect(v['Fn::GetAtt'][1]).toBe('Arn');
      return v['Fn::GetAtt'][0];
    });
  return { roles: roles.sort(), arns: values.filter((v): v is string => typeof v === 'string') };
}

const DENY = {
  Sid: 'OnlyThePipelineAndItsOperatorsRead',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
};

describe('the token secret’s resource policy (issue 17)', () => {
  it('denies GetSecretValue to every principal but exactly the roles that hold it (the LinkedIn functions)', () => {
    const { stack, template, logicalId } = synth();
    const secretId = logicalId(stack.tokenSecret);
    const [statement, ...others] = secretPolicy(template, secretId);
    expect(others).toEqual([]);
    expect(statement).toMatchObject(DENY);
    const readers = rolesAllowedToRead(template, secretId);
    // The seven functions that call LinkedIn (the export and CRM families), and nothing else.
    const linkedin = [
      ...Object.values(stack.export.functions),
      ...Object.values(stack.export.crmFunctions),
    ].filter((fn) => readers.includes(logicalId(fn.role ?? fn)));
    expect(linkedin).toHaveLength(7);
    expect(exempted(statement)).toEqual({ roles: readers, arns: [] });
  });

  it('exempts the operator roles named in operatorRoleArns (patterns for IAM Identity Center roles)', () => {
    const operators = [
      'arn:aws:iam::111122223333:role/SalesOps',
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_SalesOps_*',
    ];
    const { stack, template, logicalId } = synth({ operatorRoleArns: operators.join(',') });
    const [statement] = secretPolicy(template, logicalId(stack.tokenSecret));
    expect(exempted(statement).arns).toEqual(operators);
  });

  it('with rotation: the RotateToken role reads the token; the client secret gets the same policy for it alone', () => {
    const operator = 'arn:aws:iam::111122223333:role/SalesOps';
    const { stack, template, logicalId } = synth({ tokenRotation: true, operatorRoleArns: [operator] });
    const rotationRole = stack.export.tokenLifecycle.rotationFunction?.role;
    const clientSecret = stack.export.tokenLifecycle.clientSecret;
    if (!rotationRole || !clientSecret) throw new Error('rotation builds a function and a client secret');

    const tokenSecretId = logicalId(stack.tokenSecret);
    const [token] = secretPolicy(template, tokenSecretId);
    expect(exempted(token).roles).toEqual(rolesAllowedToRead(template, tokenSecretId));
    expect(exempted(token).roles).toContain(logicalId(rotationRole));

    const clientSecretId = logicalId(clientSecret);
    const [client] = secretPolicy(template, clientSecretId);
    expect(client).toMatchObject(DENY);
    expect(exempted(client)).toEqual({ roles: [logicalId(rotationRole)], arns: [operator] });
    expect(rolesAllowedToRead(template, clientSecretId)).toEqual([logicalId(rotationRole)]);
  });

  it('leaves an imported secret’s policy to its owner, and says so at synth', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:linkedin-token-AbCdEf';
    const { stack, template } = synth({ tokenSecretArn: arn });
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    const infos = Annotations.fromStack(stack)
      .findInfo('*', Match.anyValue())
      .map((m) => String(m.entry.data));
    expect(infos).toContainEqual(
      expect.stringContaining("ImportedTokenSecret is imported: its resource policy is its owner's"),
    );
  });

  it('refuses an operator ARN that aws:PrincipalArn never holds (an assumed-role session, another service)', () => {
    for (const bad of [
      'arn:aws:sts::111122223333:assumed-role/SalesOps/jane',
      'arn:aws:s3:::bucket',
      'SalesOps',
    ]) {
      expect(() => loadConfig({ operatorRoleArns: [bad] }), bad).toThrow(
        /operatorRoleArns.*IAM role or user/s,
      );
    }
  });
});

describe('who may start ExportJob (issue 17: it is internal)', () => {
  const { stack, template, logicalId } = synth({ tokenRotation: true, lake: true });

  /** Every Allow of states:StartExecution (or a wildcard covering it) in the template, with its holders. */
  function startGrants(): { roles: string[]; resources: string[] }[] {
    const grants: { roles: string[]; resources: string[] }[] = [];
    const covers = (action: string) =>
      action === 'states:StartExecution' || action === 'states:*' || action === '*';
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        if (s.Effect !== 'Allow' || !([s.Action].flat() as string[]).some(covers)) continue;
        grants.push({
          roles: (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref),
          resources: [s.Resource].flat().map((r) => JSON.stringify(r)),
        });
      }
    }
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      for (const inline of (role.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: Statement[] };
      }[]) {
        for (const s of inline.PolicyDocument.Statement) {
          if (s.Effect === 'Allow' && ([s.Action].flat() as string[]).some(covers)) {
            grants.push({ roles: [id], resources: [s.Resource].flat().map((r) => JSON.stringify(r)) });
          }
        }
      }
    }
    return grants;
  }

  it('is started only by ExportRun (each item) and by ExportJob itself (the halves of a split window)', () => {
    const exportJobRef = JSON.stringify({ Ref: logicalId(stack.exportJob) });
    const exportJobByName = (r: string) => r.includes('stateMachine:TestExport-ExportJob');
    const holders = new Set<string>();
    for (const grant of startGrants()) {
      // No StartExecution on every state machine (a wildcard would include ExportJob).
      expect(
        grant.resources.some((r) => /stateMachine:\*|"\*"/.test(r)),
        JSON.stringify(grant),
      ).toBe(false);
      if (grant.resources.some((r) => r === exportJobRef || exportJobByName(r))) {
        for (const role of grant.roles) holders.add(role);
      }
    }
    expect([...holders].sort()).toEqual(
      [logicalId(stack.exportRun.role), logicalId(stack.exportJob.role)].sort(),
    );
  });

  it('lets the schedule start ExportRun only', () => {
    const exportRunRef = JSON.stringify({ Ref: logicalId(stack.exportRun) });
    const schedulerRoles = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      )
      .map(([id]) => id);
    expect(schedulerRoles.length).toBeGreaterThan(0);
    for (const grant of startGrants().filter((g) => g.roles.some((r) => schedulerRoles.includes(r)))) {
      expect(grant.resources).toEqual([exportRunRef]);
    }
  });
});

describe('CreateJob may ask whether the run holding a lease has ended', () => {
  const { stack, template, logicalId } = synth();
  const executionsOfRun =
    'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:TestExport-ExportRun:*';

  it('has EXPORT_RUN_ARN (built from the name: no dependency cycle) and DescribeExecution on ExportRun’s executions only', () => {
    const env =
      template.findResources('AWS::Lambda::Function')[logicalId(stack.functions.createJob)]?.Properties
        .Environment.Variables;
    expect(flattenIntrinsics(env.EXPORT_RUN_ARN)).toBe(
      'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:TestExport-ExportRun',
    );
    const holders: Record<string, string[]> = {};
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        if (!([s.Action].flat() as string[]).includes('states:DescribeExecution')) continue;
        for (const { Ref } of policy.Properties.Roles as { Ref: string }[]) {
          holders[Ref] = [...(holders[Ref] ?? []), ...[s.Resource].flat().map(flattenIntrinsics)];
        }
      }
    }
    const createJobRole = logicalId(stack.functions.createJob.role ?? stack.functions.createJob);
    expect(holders[createJobRole]).toEqual([executionsOfRun]);
    // No other function may describe executions (the state machines follow their own children).
    for (const fn of Object.values(stack.functions)) {
      if (fn === stack.functions.createJob) continue;
      expect(holders[logicalId(fn.role ?? fn)]).toBeUndefined();
    }
  });
});
