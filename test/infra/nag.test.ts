import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#lib/config';
import { SalesNavExportStack } from '#lib/stack';

const MODES = {
  'created bucket and secret, email alarms': { alarmEmail: 'ops@example.com', bucketPrefix: 'salesnav' },
  'token rotation with a created client secret': { tokenRotation: true },
  'imported bucket and secret': {
    bucketName: 'existing-exports',
    tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:linkedin-token-AbCdEf',
    alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:platform-alarms',
  },
};

/** Every acknowledgment recorded in the tree, as [construct path, rule id, reason]. */
function acknowledgments(root: IConstruct): [string, string, string][] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(
            ([id, reason]) =>
              [construct.node.path, id.replace(/^annotation::/i, ''), reason] as [string, string, string],
          ),
        ),
    );
}

/**
 * Runs the AwsSolutions pack over the app and also returns which acknowledgments silenced a
 * finding (cdk-nag 3 checks them through its private `isAcknowledged`).
 */
function runNag(app: App) {
  const pack = new AwsSolutionsChecks();
  const used = new Set<string>();
  const internals = pack as unknown as { isAcknowledged(resource: IConstruct, ruleId: string): boolean };
  const isAcknowledged = internals.isAcknowledged.bind(pack);
  internals.isAcknowledged = (resource, ruleId) => {
    const acknowledged = isAcknowledged(resource, ruleId);
    if (acknowledged) used.add(ruleId);
    return acknowledged;
  };
  return { report: pack.validateScope(app), used };
}

describe.each(Object.entries(MODES))('cdk-nag AwsSolutions, %s', (_, context) => {
  // Bundling is skipped: the checks read the construct tree, not the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  new SalesNavExportStack(app, 'Nag', { config: loadConfig(context) });
  const { report, used } = runNag(app);

  it('has no unacknowledged error or warning', () => {
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges each rule with a real reason', () => {
    const all = acknowledgments(app);
    expect(all.length).toBeGreaterThan(0);
    for (const [path, id, reason] of all) {
      expect(id, path).toMatch(/^AwsSolutions-[A-Za-z]+\d+(\[.+\])?$/);
      expect(reason.length, `${path} ${id}`).toBeGreaterThanOrEqual(60);
      expect(reason, `${path} ${id}`).not.toMatch(/\b(todo|tbd|fixme|n\/a|suppress(ed)?|ignore)\b/i);
    }
  });

  it('acknowledges only rules that are actually triggered', () => {
    const stale = acknowledgments(app).filter(([, id]) => !used.has(id));
    expect(stale).toEqual([]);
  });
});
