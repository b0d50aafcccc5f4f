import { describe, expect, it } from 'vitest';
import { heldUntil, isTimeZone, zonedTime } from './sending-window.ts';

const weekdays = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

describe('sending window', () => {
  it("lets mail go inside the window and names the next opening outside it, in the organization's zone", () => {
    // Monday 2026-12-07 10:00 in Berlin (09:00 UTC): inside.
    expect(heldUntil(weekdays, 'Europe/Berlin', new Date('2026-12-07T09:00:00Z'))).toBeNull();
    // Monday 17:30 Berlin: held until Tuesday 09:00 Berlin = 08:00 UTC.
    expect(heldUntil(weekdays, 'Europe/Berlin', new Date('2026-12-07T16:30:00Z'))?.toISOString()).toBe('2026-12-08T08:00:00.000Z');
    // Monday 07:00 Berlin: held until the same day's 09:00.
    expect(heldUntil(weekdays, 'Europe/Berlin', new Date('2026-12-07T06:00:00Z'))?.toISOString()).toBe('2026-12-07T08:00:00.000Z');
    // Friday 18:00 New York: held over the weekend until Monday 09:00 New York (14:00 UTC in winter).
    expect(heldUntil(weekdays, 'America/New_York', new Date('2026-12-11T23:00:00Z'))?.toISOString()).toBe('2026-12-14T14:00:00.000Z');
    // The end is exclusive.
    expect(heldUntil(weekdays, 'UTC', new Date('2026-12-07T17:00:00Z'))?.toISOString()).toBe('2026-12-08T09:00:00.000Z');
  });

  it('has no hold without a window, and a single day waits a week', () => {
    expect(heldUntil(null, 'UTC', new Date())).toBeNull();
    expect(heldUntil({ days: [1], start: '09:00', end: '10:00' }, 'UTC', new Date('2026-12-07T10:00:00Z'))?.toISOString()).toBe('2026-12-14T09:00:00.000Z');
  });

  it('finds local times across daylight-saving changes', () => {
    // Berlin springs forward on 2027-03-28 at 02:00 → 03:00; 02:30 does not exist and becomes 03:30 CEST.
    expect(zonedTime(2027, 3, 28, 2, 30, 'Europe/Berlin').toISOString()).toBe('2027-03-28T01:30:00.000Z');
    expect(zonedTime(2027, 3, 29, 9, 0, 'Europe/Berlin').toISOString()).toBe('2027-03-29T07:00:00.000Z');
    expect(zonedTime(2026, 7, 1, 9, 0, 'America/Los_Angeles').toISOString()).toBe('2026-07-01T16:00:00.000Z');
  });

  it('knows time zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
