// The run watchdog: how long the oldest ExportRun execution has been running (AWS/States has no such metric).
import { paginateListExecutions, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';

/** What the hourly schedule sends: `{}` (nothing is read from it; any other event is refused by name). */
export const WatchRunsEventSchema = z.object({}).strict().prefault({});

export interface WatchRunsDeps {
  sfn: SFNClient;
  /** The ExportRun state machine (EXPORT_RUN_ARN). */
  exportRunArn: string;
  now: () => Date;
}

/**
 * One look at ExportRun's executions. Each figure becomes one metric (handlers/watch-runs.ts); a later
 * check (e.g. hours since the last successful run, from ListExecutions statusFilter SUCCEEDED) is one
 * more field here, one more metric there and one more alarm in the stack.
 */
export interface RunWatchReport {
  /** ExportRun executions RUNNING now. */
  running: number;
  /** Hours since the oldest RUNNING execution started; 0 when none runs. */
  oldestRunningRunHours: number;
  /** Its execution ARN, for the log line an operator follows from the alarm. */
  oldestRunningExecution?: string;
}

/** Lists every RUNNING ExportRun execution (all pages) and finds the oldest. */
export async function watchRuns(deps: WatchRunsDeps): Promise<RunWatchReport> {
  let running = 0;
  let oldest: { startDate: Date; executionArn?: string } | undefined;
  const pages = paginateListExecutions(
    { client: deps.sfn, pageSize: 1000 },
    { stateMachineArn: deps.exportRunArn, statusFilter: 'RUNNING' },
  );
  for await (const page of pages) {
    for (const execution of page.executions ?? []) {
      running++;
      const startDate = execution.startDate;
      if (startDate && (!oldest || startDate < oldest.startDate)) {
        oldest = { startDate, executionArn: execution.executionArn };
      }
    }
  }
  if (!oldest) return { running, oldestRunningRunHours: 0 };
  const hours = Math.max(0, (deps.now().getTime() - oldest.startDate.getTime()) / 3_600_000);
  return {
    running,
    oldestRunningRunHours: Math.round(hours * 100) / 100,
    ...(oldest.executionArn && { oldestRunningExecution: oldest.executionArn }),
  };
}
