// Lambda FinishRun: collects the item records into the run manifest (see steps/finish.ts).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { LakeCatalogError, RunIncompleteError } from '#common/errors';
import { metrics } from '#common/powertools';
import { awsDepsWithLake, lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

/** ItemsExported and ItemsFailed, once per run: from the manifest's summary, failed run included. */
function recordCounts(counts: { exported: number; failed: number }): void {
  metrics.addMetric('ItemsExported', MetricUnit.Count, counts.exported);
  metrics.addMetric('ItemsFailed', MetricUnit.Count, counts.failed);
}

export const handler = lambdaHandler(
  steps.finishRun,
  (out) => recordCounts(out.summary),
  (err) => {
    if ((err instanceof RunIncompleteError || err instanceof LakeCatalogError) && err.counts)
      recordCounts(err.counts);
  },
  () => awsDepsWithLake(),
);
