// Lambda RecordFailure: stores the record of an item that failed for good (see steps/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

// No ItemsFailed metric here: FinishRun publishes it once per run, from the manifest (a retried
// RecordFailure would count an item twice, and an item that never reached it would not count).
export const handler = lambdaHandler(steps.recordFailure);
