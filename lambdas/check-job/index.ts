import { lambdaHandler } from '#shared/aws';
import { steps } from '#shared/steps';

export const handler = lambdaHandler(steps.checkJob);
