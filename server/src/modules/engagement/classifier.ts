import { isIP } from 'node:net';

/** What the API knows about one hit on a tracked link or pixel when it answers it. */
export interface Hit {
  kind: 'open' | 'click' | 'trap';
  method: string;
  /** The User-Agent header; undefined when the source does not report one (a provider's event). */
  userAgent: string | null | undefined;
  ip: string | null;
  /** When the email was made (epoch ms), signed into its links; null when unknown. */
  sentAt: number | null;
  /** When the hit arrived (epoch ms). */
  at: number;
}

export type Reason =
  | 'honeypot_link'
  | 'head_request'
  | 'no_user_agent'
  | 'scanner_user_agent'
  | 'google_image_proxy'
  | 'yahoo_image_proxy'
  | 'apple_mail_proxy'
  | 'open_seconds_after_send'
  | 'click_seconds_after_send'
  | 'no_machine_signal';

export interface Verdict {
  machine: boolean;
  reason: Reason;
}

/** Opens and clicks sooner than this after the email was made: no person reads and clicks that fast. */
export const MACHINE_OPEN_SECONDS = 5;
export const MACHINE_CLICK_SECONDS = 10;

// Security gateways, link scanners, HTTP libraries and crawlers that fetch every link of a message.
const SCANNER_AGENTS = new RegExp(
  [
    'bot\\b',
    'crawler',
    'spider',
    'slurp',
    'barracuda',
    'mimecast',
    'proofpoint',
    'symantec',
    'messagelabs',
    'trend ?micro',
    'fortinet',
    'fortiguard',
    'sophos',
    'forcepoint',
    'zscaler',
    'cisco',
    'ironport',
    'safelinks',
    'safe ?links',
    'appriver',
    'checkpoint',
    'check point',
    'avanan',
    'abnormal',
    'vade',
    'hornet',
    'libwww',
    'python-requests',
    'python-urllib',
    'aiohttp',
    'curl/',
    'wget',
    'go-http-client',
    'java/',
    'okhttp',
    'apache-httpclient',
    'axios',
    'node-fetch',
    'undici',
    'headlesschrome',
    'phantomjs',
    'urlscan',
    'virustotal',
    'scanner',
    'facebookexternalhit',
    'slackbot',
    'whatsapp',
    'skypeuripreview',
  ].join('|'),
  'i',
);

// Apple's own network (17.0.0.0/8 and its IPv6 blocks): Mail Privacy Protection fetches every image
// from there when the message arrives, whether or not anyone reads it.
const APPLE_V6 = ['2620:149:', '2403:300:', '2a01:b740:'];

function fromApple(ip: string | null): boolean {
  if (!ip) return false;
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(address) === 4) return address.split('.')[0] === '17';
  if (isIP(address) === 6) return APPLE_V6.some((prefix) => address.toLowerCase().startsWith(prefix));
  return false;
}

/**
 * Human or machine, with the reason, from what a single request shows. The first signal that holds
 * decides, strongest first: a honeypot link no person can see, a HEAD request (browsers GET), a missing
 * or known scanner user agent, a mail provider's image proxy or Apple's network (opens only: those
 * fetch images on arrival), then speed (an open or click within seconds of sending). A scanner that
 * looks like a browser and waits is called human: the reason says what was (not) seen.
 */
export function classify(hit: Hit): Verdict {
  if (hit.kind === 'trap') return { machine: true, reason: 'honeypot_link' };
  if (hit.method.toUpperCase() === 'HEAD') return { machine: true, reason: 'head_request' };
  const agent = hit.userAgent?.trim() ?? '';
  if (agent === '' && hit.userAgent !== undefined) return { machine: true, reason: 'no_user_agent' };
  if (hit.kind === 'open') {
    if (/GoogleImageProxy|ggpht\.com/i.test(agent)) return { machine: true, reason: 'google_image_proxy' };
    if (/YahooMailProxy/i.test(agent)) return { machine: true, reason: 'yahoo_image_proxy' };
    if (fromApple(hit.ip)) return { machine: true, reason: 'apple_mail_proxy' };
  }
  if (SCANNER_AGENTS.test(agent)) return { machine: true, reason: 'scanner_user_agent' };
  if (hit.sentAt !== null) {
    const seconds = (hit.at - hit.sentAt) / 1000;
    if (hit.kind === 'open' && seconds < MACHINE_OPEN_SECONDS) return { machine: true, reason: 'open_seconds_after_send' };
    if (hit.kind === 'click' && seconds < MACHINE_CLICK_SECONDS) return { machine: true, reason: 'click_seconds_after_send' };
  }
  return { machine: false, reason: 'no_machine_signal' };
}
