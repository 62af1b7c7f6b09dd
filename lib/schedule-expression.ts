// EventBridge Scheduler's schedule expression grammar (cron, rate, at), checked before a deploy can fail on it.

/**
 * The grammar of https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html and of the
 * cron table in https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html:
 *   cron(minutes hours day-of-month month day-of-week year)   six fields, one of day-of-month and
 *                                                            day-of-week is `?` (never both, never neither)
 *   rate(value unit)   value a positive integer, unit minute(s) | hour(s) | day(s), singular for 1
 *   at(yyyy-mm-ddThh:mm:ss)
 */
interface CronField {
  name: string;
  min: number;
  max: number;
  /** Names standing for numbers (JAN = 1, SUN = 1). */
  names?: string[];
  /** The wildcards this field accepts beyond `, - * /`. */
  question?: boolean;
  last?: boolean;
  weekday?: boolean;
  nth?: boolean;
  slash?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: CronField[] = [
  { name: 'minutes', min: 0, max: 59, slash: true },
  { name: 'hours', min: 0, max: 23, slash: true },
  { name: 'day-of-month', min: 1, max: 31, question: true, last: true, weekday: true, slash: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, slash: true },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, question: true, last: true, nth: true },
  { name: 'year', min: 1970, max: 2199, slash: true },
];

/** The problem with `expression` as an EventBridge Scheduler schedule expression, or undefined if it is valid. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression);
  if (!match) return 'must be cron(...), rate(...) or at(...)';
  const [, kind, body = ''] = match;
  if (kind === 'rate') return rateProblem(body);
  if (kind === 'at') return atProblem(body);
  return cronProblem(body);
}

function rateProblem(body: string): string | undefined {
  const rate = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!rate)
    return 'rate(...) must be "rate(<positive integer> <minute(s)|hour(s)|day(s)>)", e.g. rate(1 day)';
  const value = Number(rate[1]);
  const unit = rate[2] ?? '';
  if (value < 1) return 'rate(...) needs a value of at least 1';
  if (value === 1 && unit.endsWith('s'))
    return `rate(1 ${unit}) must be singular: rate(1 ${unit.slice(0, -1)})`;
  if (value > 1 && !unit.endsWith('s'))
    return `rate(${value} ${unit}) must be plural: rate(${value} ${unit}s)`;
  return undefined;
}

function atProblem(body: string): string | undefined {
  const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  const date = at && new Date(`${body}Z`);
  if (!at || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== body) {
    return 'at(...) must be "at(yyyy-mm-ddThh:mm:ss)", a real date and time, e.g. at(2027-01-31T07:00:00)';
  }
  return undefined;
}

function cronProblem(body: string): string | undefined {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    return `cron(...) needs six fields (minutes hours day-of-month month day-of-week year), got ${parts.length}: e.g. cron(0 7 * * ? *) for 07:00 every day`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(parts[i] ?? '', field);
    if (problem) return `cron(...) ${field.name} field "${parts[i]}": ${problem}`;
  }
  const dayOfMonth = parts[2];
  const dayOfWeek = parts[4];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'cron(...) needs "?" in exactly one of day-of-month and day-of-week (e.g. cron(0 7 * * ? *), or cron(0 7 ? * MON-FRI *))';
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  if (text === '*') return undefined;
  if (text === '?') return field.question ? undefined : '"?" is only allowed in day-of-month and day-of-week';
  if (field.nth && text.includes('#')) {
    const nth = /^([^#,]+)#([1-5])$/.exec(text);
    if (!nth) return '"#" takes one "<day>#<1-5>" expression (e.g. 3#2, the second Tuesday), not a list';
    return valueProblem(nth[1] ?? '', field);
  }
  for (const element of text.split(',')) {
    const problem = elementProblem(element, field);
    if (problem) return problem;
  }
  return undefined;
}

function elementProblem(element: string, field: CronField): string | undefined {
  if (element === '') return 'has an empty list element';
  if (field.last && element === 'L') return undefined;
  if (field.weekday && /^\d+W$/.test(element)) return valueProblem(element.slice(0, -1), field);
  if (field.nth && /^[^L]+L$/.test(element)) return valueProblem(element.slice(0, -1), field);
  const [range, step, extra] = element.split('/');
  if (extra !== undefined) return 'has more than one "/"';
  if (step !== undefined) {
    if (!field.slash) return '"/" is not allowed in this field';
    if (!/^\d+$/.test(step) || Number(step) < 1) return `"/${step}" needs a positive integer increment`;
  }
  if (range === '*' && step !== undefined) return undefined;
  const [from, to, more] = (range ?? '').split('-');
  if (more !== undefined) return 'has more than one "-" in a range';
  return valueProblem(from ?? '', field) ?? (to === undefined ? undefined : valueProblem(to, field));
}

function valueProblem(value: string, field: CronField): string | undefined {
  const upper = value.toUpperCase();
  if (field.names?.includes(upper)) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(n) && n >= field.min && n <= field.max) return undefined;
  const names = field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : '';
  return `"${value}" is not ${field.min}-${field.max}${names}`;
}
