import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler } from '#shared/aws';
import { metrics } from '#shared/powertools';
import { steps } from '#shared/steps';

export const handler = lambdaHandler(steps.recordFailure, () =>
  metrics.addMetric('ItemsFailed', MetricUnit.Count, 1),
);
