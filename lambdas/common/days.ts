/** UTC calendar-day arithmetic on `YYYY-MM-DD` strings. LinkedIn accepts UTC day boundaries only. */
export const DAY_MS = 86_400_000;

export function dayToMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function msToDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return msToDay(dayToMs(day) + days * DAY_MS);
}

/** Whole days in `[start, end)`. */
export function daysBetween(start: string, end: string): number {
  return Math.round((dayToMs(end) - dayToMs(start)) / DAY_MS);
}

/** The UTC day containing `date`. */
export function utcDay(date: Date): string {
  return msToDay(date.getTime());
}
