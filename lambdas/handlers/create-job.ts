// Lambda CreateJob: creates the LinkedIn export job for one item (see steps/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.createJob);
