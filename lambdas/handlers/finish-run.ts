// Lambda FinishRun: collects the item records into the run manifest (see steps/finish.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#common/powertools';
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.finishRun, (out) => {
  metrics.addMetric('ItemsExported', MetricUnit.Count, out.summary.exported);
  metrics.addMetric('ItemsFailed', MetricUnit.Count, out.summary.failed);
});
