/**
 * Colour helpers for organization branding. An organization picks any accent colour; the apps must
 * still meet WCAG 2.2 AA, so the accent is darkened until white text on it (and it as text on white)
 * reaches 4.5:1.
 */
const HEX = /^#([0-9a-f]{6})$/i;

function channels(hex: string): [number, number, number] {
  const value = Number.parseInt(HEX.exec(hex)![1]!, 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

const toHex = (rgb: [number, number, number]) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;

export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

export const DEFAULT_ACCENT = '#1d4ed8';

/** The organization's accent, darkened just enough for 4.5:1 against white; the default when unset or malformed. */
export function accessibleAccent(accent: string | null | undefined): string {
  if (!accent || !HEX.test(accent)) return DEFAULT_ACCENT;
  let rgb = channels(accent);
  for (let step = 0; step < 40 && contrastRatio(toHex(rgb), '#ffffff') < 4.5; step += 1) {
    rgb = rgb.map((c) => c * 0.92) as [number, number, number];
  }
  return toHex(rgb);
}
