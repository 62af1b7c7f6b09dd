// Lambda CheckJob: reads the LinkedIn job and decides the next state (see steps/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { steps } from '#steps/index';

export const handler = lambdaHandler(steps.checkJob);
