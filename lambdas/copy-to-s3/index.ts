import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { lambdaHandler } from '#shared/aws';
import { metrics } from '#shared/powertools';
import { steps } from '#shared/steps';

export const handler = lambdaHandler(steps.copyToS3, (out) => {
  metrics.addMetric('BytesExported', MetricUnit.Bytes, out.result?.bytes ?? 0);
  metrics.addMetric('RowsExported', MetricUnit.Count, out.result?.rows ?? 0);
});
