// Lambda RecordFailure: stores the record of an item that failed for good (see steps/job.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#common/powertools';
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.recordFailure, () =>
  metrics.addMetric('ItemsFailed', MetricUnit.Count, 1),
);
