import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * How cdk-nag names a resource in an AwsSolutions-IAM5 finding: the resolved value with intrinsic
 * functions flattened (`{"Fn::GetAtt":["Bucket","Arn"]}` → `<Bucket.Arn>`, `{"Ref":"AWS::Partition"}`
 * → `<AWS::Partition>`, `Fn::Join` joined).
 */
export function nagResourceName(scope: IConstruct, resource: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const fn = node as Record<string, unknown>;
    if (Array.isArray(fn['Fn::Join'])) {
      const [separator, parts] = fn['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if (Array.isArray(fn['Fn::GetAtt'])) return `<${(fn['Fn::GetAtt'] as unknown[]).map(flatten).join('.')}>`;
    if (fn.Ref !== undefined) return `<${flatten(fn.Ref)}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(resource));
}

/**
 * Acknowledges the AwsSolutions-IAM5 finding of each wildcard `resource` granted to `principal`
 * (a role, or a construct above its policy), one finding at a time, with the reason for all of them.
 */
export function acknowledgeWildcardResources(principal: IConstruct, resources: string[], reason: string): void {
  Validations.of(principal).acknowledge(
    ...resources.map((resource) => ({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(principal, resource)}]`,
      reason,
    })),
  );
}
