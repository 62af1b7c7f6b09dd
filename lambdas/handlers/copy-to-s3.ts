// Lambda CopyToS3: streams the finished export into S3 (see steps/copy.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#common/powertools';
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.copyToS3, (out) => {
  metrics.addMetric('BytesExported', MetricUnit.Bytes, out.result?.bytes ?? 0);
  metrics.addMetric('RowsExported', MetricUnit.Count, out.result?.rows ?? 0);
});
