import { describe, expect, it } from 'vitest';
import { classify, type Hit } from '../../src/modules/engagement/index.ts';

/**
 * The labelled fixture set: real-world shapes of opens and clicks, each labelled by who actually made
 * it (a person, or a machine: mail-provider proxies, security gateways, link scanners, scripts). Some
 * are hard on purpose (a scanner that looks like a browser and waits; a person who opens at once) so
 * the accuracy reported is not flattering by construction.
 */
const CHROME_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const APPLE_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36';
const EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61';
const OUTLOOK = 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)';
const THUNDERBIRD = 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0';
const SAMSUNG = 'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36';
const GOOGLE_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
const YAHOO_PROXY = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html';

const HOME_IP = '203.0.113.24';
const OFFICE_IP = '198.51.100.7';
const APPLE_IP = '17.58.101.14';
const APPLE_IP6 = '2620:149:a42:a01::15';
const SENT = Date.parse('2026-12-07T10:00:00Z');
const after = (seconds: number) => SENT + seconds * 1000;

type Case = { name: string; machine: boolean; hit: Omit<Hit, 'sentAt' | 'at'> & { seconds: number } };
const open = (name: string, machine: boolean, userAgent: string | null, ip: string, seconds: number, method = 'GET'): Case => ({
  name,
  machine,
  hit: { kind: 'open', method, userAgent, ip, seconds },
});
const click = (name: string, machine: boolean, userAgent: string | null, ip: string, seconds: number, method = 'GET'): Case => ({
  name,
  machine,
  hit: { kind: 'click', method, userAgent, ip, seconds },
});
const trap = (name: string, userAgent: string | null, ip: string, seconds: number): Case => ({
  name,
  machine: true,
  hit: { kind: 'trap', method: 'GET', userAgent, ip, seconds },
});

const FIXTURES: Case[] = [
  // People opening.
  open('Chrome on Windows, an hour later', false, CHROME_WIN, HOME_IP, 3600),
  open('Chrome on a Mac, next morning', false, CHROME_MAC, HOME_IP, 15 * 3600),
  open('Firefox webmail, 20 minutes later', false, FIREFOX, OFFICE_IP, 1200),
  open('Safari on iPhone without Mail Privacy Protection', false, SAFARI_IOS, HOME_IP, 600),
  open('Apple Mail on a Mac, protection off', false, APPLE_MAIL, HOME_IP, 300),
  open('Gmail app on Android', false, ANDROID, HOME_IP, 90),
  open('Edge, two days later', false, EDGE, OFFICE_IP, 2 * 86400),
  open('Outlook desktop loading images', false, OUTLOOK, OFFICE_IP, 2400),
  open('Thunderbird', false, THUNDERBIRD, HOME_IP, 5400),
  open('Samsung Internet', false, SAMSUNG, HOME_IP, 800),
  open('reopened a week later', false, CHROME_WIN, HOME_IP, 7 * 86400),
  open('IPv6 home connection', false, FIREFOX, '2001:db8:1::5', 700),
  open('opened 30 seconds after arrival', false, SAFARI_IOS, HOME_IP, 30),
  // Machines opening.
  open('Apple Mail Privacy Protection prefetch', true, 'Mozilla/5.0', APPLE_IP, 40),
  open('Apple MPP with a Mail agent', true, APPLE_MAIL, APPLE_IP, 120),
  open('Apple MPP over IPv6', true, 'Mozilla/5.0', APPLE_IP6, 60),
  open('Apple MPP, v4-mapped address', true, APPLE_MAIL, `::ffff:${APPLE_IP}`, 200),
  open('Gmail image proxy', true, GOOGLE_PROXY, '66.249.84.10', 3600),
  open('Gmail image proxy right away', true, GOOGLE_PROXY, '66.249.84.11', 2),
  open('Yahoo mail proxy', true, YAHOO_PROXY, '98.136.0.1', 900),
  open('open without a user agent', true, null, OFFICE_IP, 500),
  open('open with an empty user agent', true, '   ', OFFICE_IP, 500),
  open('gateway fetching images within a second', true, CHROME_WIN, OFFICE_IP, 1),
  open('gateway fetching images at three seconds', true, CHROME_WIN, OFFICE_IP, 3),
  open('HEAD request for the pixel', true, CHROME_WIN, OFFICE_IP, 600, 'HEAD'),
  open('Barracuda gateway', true, 'Mozilla/5.0 (compatible; Barracuda Sentinel)', OFFICE_IP, 20),
  open('curl', true, 'curl/8.4.0', OFFICE_IP, 100),
  open('Python script', true, 'python-requests/2.31.0', OFFICE_IP, 100),
  // People clicking.
  click('click from Chrome after reading', false, CHROME_WIN, HOME_IP, 3700),
  click('click from iPhone Safari', false, SAFARI_IOS, HOME_IP, 620),
  click('click from Android', false, ANDROID, HOME_IP, 140),
  click('click from Firefox at work', false, FIREFOX, OFFICE_IP, 1300),
  click('click from Edge days later', false, EDGE, OFFICE_IP, 3 * 86400),
  click('click from Outlook (opens the browser)', false, EDGE, OFFICE_IP, 2500),
  click('click from Samsung Internet', false, SAMSUNG, HOME_IP, 830),
  click("click from an iPhone on Apple's network (iCloud Private Relay does not use 17/8)", false, SAFARI_IOS, '172.225.10.3', 900),
  click('click a minute after arrival', false, CHROME_MAC, HOME_IP, 60),
  click('click from Thunderbird', false, THUNDERBIRD, HOME_IP, 5500),
  // Machines clicking.
  click('link scanner within two seconds', true, CHROME_WIN, OFFICE_IP, 2),
  click('link scanner at six seconds', true, CHROME_WIN, OFFICE_IP, 6),
  click('HEAD request by a link checker', true, CHROME_WIN, OFFICE_IP, 3600, 'HEAD'),
  click('HEAD request with a browser agent, days later', true, SAFARI_IOS, HOME_IP, 2 * 86400, 'HEAD'),
  click('Mimecast', true, 'Mozilla/5.0 (compatible; Mimecast URL Protect)', OFFICE_IP, 40),
  click('Proofpoint', true, 'Mozilla/5.0 (compatible; Proofpoint URL Defense)', OFFICE_IP, 30),
  click('Microsoft Safe Links labelled', true, 'Microsoft SafeLinks Detonation', OFFICE_IP, 25),
  click('Go HTTP client', true, 'Go-http-client/1.1', OFFICE_IP, 300),
  click('Java client', true, 'Java/17.0.2', OFFICE_IP, 300),
  click('okhttp', true, 'okhttp/4.9.0', OFFICE_IP, 300),
  click(
    'headless Chrome',
    true,
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
    OFFICE_IP,
    50,
  ),
  click('Slack unfurl', true, 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', OFFICE_IP, 4000),
  click('Facebook crawler (link shared)', true, 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', OFFICE_IP, 8000),
  click('no user agent', true, null, OFFICE_IP, 800),
  click('wget', true, 'Wget/1.21.4', OFFICE_IP, 100),
  click('urlscan', true, 'urlscan.io', OFFICE_IP, 9000),
  click('Google crawler', true, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', '66.249.66.1', 20000),
  trap('honeypot followed by a browser-like scanner', CHROME_WIN, OFFICE_IP, 45),
  trap('honeypot followed late', SAFARI_IOS, HOME_IP, 3600),
  trap('honeypot followed by a script', 'python-requests/2.31.0', OFFICE_IP, 3),
  // Hard cases, labelled by the truth (the classifier cannot see these from one request).
  click('sandbox scanner with a browser agent, after 40 s', true, CHROME_WIN, OFFICE_IP, 40),
  click('Microsoft Defender detonation with an Edge agent, after 2 min', true, EDGE, '40.94.1.1', 120),
  open('reader watching the inbox opens within two seconds', false, APPLE_MAIL, HOME_IP, 2),
  open('Apple MPP from a relay outside 17/8', true, 'Mozilla/5.0', '172.226.0.5', 80),
];

describe('human or machine classifier', () => {
  it('has a labelled fixture set of at least 50 cases, and classifies at least 90 % of it right, with a reason for each', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(50);
    const wrong: string[] = [];
    const matrix = { humanAsHuman: 0, humanAsMachine: 0, machineAsMachine: 0, machineAsHuman: 0 };
    for (const { name, machine, hit } of FIXTURES) {
      const verdict = classify({ ...hit, sentAt: SENT, at: after(hit.seconds) });
      expect(verdict.reason.length).toBeGreaterThan(0);
      if (machine) matrix[verdict.machine ? 'machineAsMachine' : 'machineAsHuman'] += 1;
      else matrix[verdict.machine ? 'humanAsMachine' : 'humanAsHuman'] += 1;
      if (verdict.machine !== machine) wrong.push(`${name} (labelled ${machine ? 'machine' : 'human'}, said ${verdict.reason})`);
    }
    const accuracy = (FIXTURES.length - wrong.length) / FIXTURES.length;
    console.log(`classifier accuracy on ${FIXTURES.length} labelled cases: ${(accuracy * 100).toFixed(1)} %`, matrix, wrong);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('gives the strongest reason first: a honeypot beats everything, HEAD beats a browser agent, a proxy beats timing', () => {
    expect(classify({ kind: 'trap', method: 'HEAD', userAgent: null, ip: null, sentAt: SENT, at: after(1) })).toEqual({
      machine: true,
      reason: 'honeypot_link',
    });
    expect(classify({ kind: 'click', method: 'HEAD', userAgent: CHROME_WIN, ip: HOME_IP, sentAt: SENT, at: after(1) })).toEqual({
      machine: true,
      reason: 'head_request',
    });
    expect(classify({ kind: 'open', method: 'GET', userAgent: GOOGLE_PROXY, ip: HOME_IP, sentAt: SENT, at: after(1) })).toEqual({
      machine: true,
      reason: 'google_image_proxy',
    });
    // A click from Apple's network is not a prefetch: only opens are judged by the proxy ranges.
    expect(classify({ kind: 'click', method: 'GET', userAgent: SAFARI_IOS, ip: APPLE_IP, sentAt: SENT, at: after(600) })).toEqual({
      machine: false,
      reason: 'no_machine_signal',
    });
    // A provider's event reports no agent: that alone is no sign of a machine.
    expect(classify({ kind: 'open', method: 'GET', userAgent: undefined, ip: null, sentAt: SENT, at: after(600) })).toEqual({
      machine: false,
      reason: 'no_machine_signal',
    });
  });
});
