import { describe, expect, it } from 'vitest';
import { detectDelimiter, detectEncoding, KNOWN_HEADERS, mapColumns, splitHeader } from '../../src/modules/imports/csv.ts';
// The import wizard's guess in the browser (the web app cannot import the server, so the two are kept
// equal by this test rather than by one shared file).
import { guessTarget, KNOWN_HEADERS as WEB_KNOWN_HEADERS, readHead } from '../../../web/src/admin/pages/subscribers/csvHead.ts';

const files: { name: string; bytes: Buffer }[] = [
  { name: 'comma, UTF-8', bytes: Buffer.from('email,first_name,Last Name\nada@example.com,Ada,Lovelace\n', 'utf8') },
  { name: 'semicolon, Latin-1, CRLF', bytes: Buffer.from('E-Mail;Vorname;Nachname\r\nrené@example.com;René;Müller\r\n', 'latin1') },
  { name: 'tab, UTF-8 with BOM', bytes: Buffer.from('\uFEFFEmail Address\tFirst Name\tTags\nzoë@example.com\tZoë\tNews\n', 'utf8') },
  { name: 'quoted delimiters in the header', bytes: Buffer.from('"a;b";"c;d";email,x\n1;2;3\n', 'utf8') },
  { name: 'semicolons outnumber commas outside quotes', bytes: Buffer.from('"x,y,z";email;Prénom\n', 'utf8') },
];

describe("the wizard's CSV head (web) and the server's detection", () => {
  it('know the same header names', () => {
    expect(WEB_KNOWN_HEADERS).toEqual(KNOWN_HEADERS);
  });

  for (const file of files) {
    it(`detect the same encoding, delimiter, header and column targets: ${file.name}`, async () => {
      const head = await readHead(new Blob([new Uint8Array(file.bytes)]));
      const { encoding, bom } = detectEncoding(file.bytes);
      const text = new TextDecoder(encoding).decode(bom ? file.bytes.subarray(3) : file.bytes);
      const firstLine = text.split(/\r?\n/, 1)[0]!;
      const delimiter = detectDelimiter(firstLine);
      expect({ encoding: head.encoding, bom: head.bom, delimiter: head.delimiter }).toEqual({ encoding, bom, delimiter });
      const header = splitHeader(firstLine, delimiter);
      expect(head.header).toEqual(header);
      // The server leaves an unknown column out unless it is mapped; the wizard proposes it as metadata.
      const server = mapColumns(header, {}).columns.map((c) => c.field);
      expect(header.map(guessTarget).map((t) => (t === 'metadata' ? 'ignore' : t))).toEqual(server);
    });
  }
});
