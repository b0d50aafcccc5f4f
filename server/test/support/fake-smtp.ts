import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  /** The SMTP envelope: MAIL FROM (the return path) and RCPT TO. */
  mailFrom: string;
  rcptTo: string[];
  /** The message exactly as it crossed the wire. */
  raw: string;
  /** The same, parsed by a real MIME parser. */
  parsed: ParsedMail;
}

/**
 * A real SMTP server on a free local port (the `smtp-server` package) that keeps every message it
 * receives, raw and parsed with `mailparser`: tests assert on what our SMTP path actually emits, not on
 * what we meant to hand nodemailer.
 */
export function createFakeSmtp() {
  const messages: ReceivedMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((parsed) => {
          const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          messages.push({ mailFrom, rcptTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed });
          callback();
        }, callback);
      });
    },
  });
  let port = 0;
  return {
    messages,
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.server.address() as AddressInfo).port;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    /** The messages to an address, oldest first. */
    to: (address: string) => messages.filter((m) => m.rcptTo.includes(address)),
  };
}

export type FakeSmtp = ReturnType<typeof createFakeSmtp>;
