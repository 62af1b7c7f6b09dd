// The one configured Powertools Logger and Metrics of every function and of the local run.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The one Logger and Metrics instance, configured once and imported everywhere.
 * Never log the access token, a download URL's query string, or CSV content (member data).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'salesnav-export' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SalesNavExport',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'salesnav-export',
});
