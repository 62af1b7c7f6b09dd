// Lambda CreateJob: creates the LinkedIn export job for one item (see steps/job.ts).
import { awsDepsWithRunStatus, lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

// With EXPORT_RUN_ARN, a lease of a run that has ended is taken over at once (steps/job.ts createJob).
export const handler = lambdaHandler(steps.createJob, undefined, undefined, () => awsDepsWithRunStatus());
