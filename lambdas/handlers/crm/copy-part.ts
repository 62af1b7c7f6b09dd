// Lambda CopyCrmPart: streams the next part of a finished CRM export into S3 (see steps/crm/job.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#common/powertools';
import { lambdaHandler } from '#lambda-runtime';
import { crmSteps } from '#steps/crm/index';

export const handler = lambdaHandler(crmSteps.copyCrmPart, (out) => {
  const part = out.copied.at(-1);
  metrics.addMetric('CrmBytesExported', MetricUnit.Bytes, part?.bytes ?? 0);
  metrics.addMetric('CrmRowsExported', MetricUnit.Count, part?.rows ?? 0);
});
