/**
 * An organization's sending window: the days of the week and the hours of the day, in its own time
 * zone, when bulk mail (campaigns, automation steps) may go out. Outside it, sending is held until the
 * window next opens. Days are ISO weekdays (1 = Monday … 7 = Sunday); `start` and `end` are "HH:MM"
 * local times with start before end (a window does not run past midnight).
 */
export interface SendingWindow {
  days: number[];
  start: string;
  end: string;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `zone` is an IANA time zone this runtime knows ("Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let cached = formatters.get(zone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, cached);
  }
  return cached;
}

/** The wall-clock date and time at `at` in `zone`. */
export function localParts(at: Date, zone: string) {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday!]!,
  };
}

/** Minutes since local midnight of an "HH:MM" time. */
export function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return hours! * 60 + minutes!;
}

/**
 * The instant at which the wall clock in `zone` shows the given local date and time. In a gap (clocks
 * jump forward) the time after the jump; in an overlap (clocks go back) the first of the two.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, zone: string): Date {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  // Correct a guess by the zone's offset there; two offsets at most meet around a change.
  const later: number[] = [];
  let guess = wanted;
  for (let i = 0; i < 4; i++) {
    const seen = localParts(new Date(guess), zone);
    const shown = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute);
    if (shown === wanted) return new Date(guess);
    if (shown > wanted) later.push(guess);
    guess += wanted - shown;
  }
  // The wall clock never shows that time (it jumps over it): the time moved forward by the jump.
  return new Date(Math.min(...later));
}

/**
 * When sending may go on: null when `at` is inside the window (or there is no window), otherwise the
 * instant the window next opens.
 */
export function heldUntil(window: SendingWindow | null, zone: string, at: Date): Date | null {
  if (!window || window.days.length === 0) return null;
  const now = localParts(at, zone);
  const nowMinutes = now.hour * 60 + now.minute;
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (window.days.includes(now.weekday) && nowMinutes >= start && nowMinutes < end) return null;
  for (let ahead = 0; ahead <= 7; ahead++) {
    const weekday = ((now.weekday - 1 + ahead) % 7) + 1;
    if (!window.days.includes(weekday)) continue;
    if (ahead === 0 && nowMinutes >= start) continue;
    // Calendar arithmetic on the local date (UTC fields used as a plain calendar).
    const date = new Date(Date.UTC(now.year, now.month - 1, now.day + ahead));
    return zonedTime(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), Math.floor(start / 60), start % 60, zone);
  }
  return null;
}
