import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler } from '#shared/aws';
import { metrics } from '#shared/powertools';
import { steps } from '#shared/steps';

export const handler = lambdaHandler(steps.planRun, (out) => {
  metrics.addMetric('ItemsPlanned', MetricUnit.Count, out.planned);
  metrics.addMetric('ItemsSkipped', MetricUnit.Count, out.skipped);
});
