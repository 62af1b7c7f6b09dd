// Lambda WatchRuns (hourly): publishes OldestRunningRunHours for the RunOverdue alarm (see steps/watch-runs.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { ConfigurationError } from '#common/errors';
import { logger, metrics } from '#common/powertools';
import { parseStepEvent } from '#steps/define-step';
import { type RunWatchReport, WatchRunsEventSchema, watchRuns } from '#steps/watch-runs';

const sfn = new SFNClient({});

export async function handler(event: unknown, context: Context): Promise<RunWatchReport> {
  logger.addContext(context);
  // Refused by name like every other step's malformed event (not a ZodError Step Functions cannot match).
  parseStepEvent('WatchRuns', WatchRunsEventSchema, event);
  const exportRunArn = process.env.EXPORT_RUN_ARN;
  if (!exportRunArn) throw new ConfigurationError('EXPORT_RUN_ARN is not set');
  const report = await watchRuns({ sfn, exportRunArn, now: () => new Date() });
  logger.info('ExportRun executions running', { ...report });
  metrics.addMetric('OldestRunningRunHours', MetricUnit.NoUnit, report.oldestRunningRunHours);
  metrics.publishStoredMetrics();
  return report;
}
