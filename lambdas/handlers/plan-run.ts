// Lambda PlanRun: turns the execution input into the lanes and items to export (see steps/plan.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#common/powertools';
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.planRun, (out) => {
  metrics.addMetric('ItemsPlanned', MetricUnit.Count, out.planned);
  metrics.addMetric('ItemsSkipped', MetricUnit.Count, out.skipped);
});
