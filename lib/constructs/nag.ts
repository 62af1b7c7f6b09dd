// cdk-nag acknowledgements, each with its reason, and the check that none is unused.
import { Stack, Validations } from 'aws-cdk-lib';
import { type IRole, Policy } from 'aws-cdk-lib/aws-iam';

interface PolicyStatementJson {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
}

const toArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/**
 * A resolved CloudFormation value as one string, the way cdk-nag names resources in its findings:
 * `{"Fn::GetAtt":["Bucket","Arn"]}` → `<Bucket.Arn>`, `{"Ref":"AWS::Partition"}` → `<AWS::Partition>`,
 * `Fn::Join` joined, `Fn::Sub` variables in angle brackets; any other intrinsic as its JSON.
 */
export function flattenIntrinsics(node: unknown): string {
  if (typeof node === 'string') return node;
  const fn = node as Record<string, unknown>;
  if (Array.isArray(fn['Fn::Join'])) {
    const [separator, parts] = fn['Fn::Join'] as [string, unknown[]];
    return parts.map(flattenIntrinsics).join(separator);
  }
  if (typeof fn['Fn::Sub'] === 'string') return fn['Fn::Sub'].replace(/\$\{([^}]*)\}/g, '<$1>');
  if (Array.isArray(fn['Fn::GetAtt']))
    return `<${(fn['Fn::GetAtt'] as unknown[]).map(flattenIntrinsics).join('.')}>`;
  if (fn['Fn::ImportValue'] !== undefined) return flattenIntrinsics(fn['Fn::ImportValue']);
  if (fn.Ref !== undefined) return `<${flattenIntrinsics(fn.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for every wildcard resource in `role`'s default
 * policy that is granted for `actions` only (`service:*` globs allowed), with `reason`. A wildcard
 * that any other action also uses stays a finding. Call it after the grants it explains.
 */
export function acknowledgeWildcardResources(role: IRole, actions: string[], reason: string): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy instanceof Policy) acknowledgePolicyWildcards(policy, actions, reason);
}

/** `acknowledgeWildcardResources` for one policy (e.g. the DistributedMapPolicy CDK attaches to a state machine). */
export function acknowledgePolicyWildcards(policy: Policy, actions: string[], reason: string): void {
  const { Statement = [] } = Stack.of(policy).resolve(policy.document) as {
    Statement?: PolicyStatementJson[];
  };
  const explained = (action: string) =>
    actions.some((a) => a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));
  const onlyExplained = new Map<string, boolean>();
  for (const statement of Statement.filter((s) => s.Effect === 'Allow')) {
    const ok = toArray(statement.Action).every(explained);
    for (const resource of toArray(statement.Resource)
      .map(flattenIntrinsics)
      .filter((r) => r.includes('*'))) {
      onlyExplained.set(resource, (onlyExplained.get(resource) ?? true) && ok);
    }
  }
  const acknowledgments = [...onlyExplained]
    .filter(([, ok]) => ok)
    .map(([resource]) => ({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason }));
  if (acknowledgments.length > 0) Validations.of(policy).acknowledge(...acknowledgments);
}
