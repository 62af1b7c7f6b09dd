import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler } from '#shared/aws';
import { metrics } from '#shared/powertools';
import { steps } from '#shared/steps';

export const handler = lambdaHandler(steps.finishRun, (out) => {
  metrics.addMetric('ItemsExported', MetricUnit.Count, out.summary.exported);
  metrics.addMetric('ItemsFailed', MetricUnit.Count, out.summary.failed);
});
