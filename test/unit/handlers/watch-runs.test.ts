// The WatchRuns handler against a mocked Step Functions: every page of RUNNING executions, the oldest one's age as a metric.
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#common/powertools';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SalesNavExport-ExportRun';
const context = { functionName: 'watch', awsRequestId: 'req-1' } as unknown as Context;
const NOW = new Date('2026-12-02T07:00:00Z');
const execution = (name: string, startedHoursAgo: number) => ({
  executionArn: `${ARN.replace(':stateMachine:', ':execution:')}:${name}`,
  stateMachineArn: ARN,
  name,
  status: 'RUNNING' as const,
  startDate: new Date(NOW.getTime() - startedHoursAgo * 3_600_000),
});

beforeAll(() => {
  process.env.AWS_REGION = 'eu-west-1';
  process.env.EXPORT_RUN_ARN = ARN;
});
beforeEach(() => {
  sfn.reset();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('WatchRuns handler', () => {
  it('reads every page of RUNNING ExportRun executions and publishes the oldest one’s age in hours', async () => {
    sfn
      .on(ListExecutionsCommand, { stateMachineArn: ARN, statusFilter: 'RUNNING', nextToken: undefined })
      .resolves({ executions: [execution('manual', 2), execution('daily', 3)], nextToken: 'page-2' })
      .on(ListExecutionsCommand, { nextToken: 'page-2' })
      .resolves({ executions: [execution('stuck', 26.5)] });
    const added = vi.spyOn(metrics, 'addMetric');
    const published = vi.spyOn(metrics, 'publishStoredMetrics');
    const { handler } = await import('#handlers/watch-runs');

    const report = await handler({}, context);

    expect(report).toEqual({
      running: 3,
      oldestRunningRunHours: 26.5,
      oldestRunningExecution: execution('stuck', 0).executionArn,
    });
    const calls = sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    for (const input of calls) expect(input).toMatchObject({ stateMachineArn: ARN, statusFilter: 'RUNNING' });
    expect(calls[1]?.nextToken).toBe('page-2');
    expect(added).toHaveBeenCalledExactlyOnceWith('OldestRunningRunHours', 'None', 26.5);
    expect(published).toHaveBeenCalledOnce();
  });

  it('publishes 0 when no run is running (the alarm sees data, not a gap)', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const added = vi.spyOn(metrics, 'addMetric');
    const { handler } = await import('#handlers/watch-runs');

    expect(await handler({}, context)).toEqual({ running: 0, oldestRunningRunHours: 0 });
    expect(added).toHaveBeenCalledExactlyOnceWith('OldestRunningRunHours', 'None', 0);
  });

  it('fails (so Lambda retries the invocation) when Step Functions cannot be read, publishing nothing', async () => {
    sfn
      .on(ListExecutionsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const added = vi.spyOn(metrics, 'addMetric');
    const { handler } = await import('#handlers/watch-runs');

    await expect(handler({}, context)).rejects.toThrow('Rate exceeded');
    expect(added).not.toHaveBeenCalled();
  });
});
