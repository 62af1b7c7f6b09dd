// The package's entry point (`import { SalesNavigatorExport } from 'salesnav-export'`): the construct, its props and defaults.
export { EXPORT_DEFAULTS } from './construct-defaults.ts';
export {
  METRICS_NAMESPACE,
  SalesNavigatorExport,
  type SalesNavigatorExportProps,
  SERVICE_NAME,
} from './sales-navigator-export.ts';
export { scheduleExpressionProblem } from './schedule-expression.ts';
