// Lambda CreateCrmJob: creates the CRM data validation export job from the instance's cursor (see steps/crm/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { crmSteps } from '#steps/crm/index';

export const handler = lambdaHandler(crmSteps.createCrmJob);
