import { describe, expect, it } from 'vitest';
import { guessTarget, metadataKeyOf, readHead } from '../../src/admin/pages/subscribers/csvHead';

const file = (bytes: Uint8Array<ArrayBuffer> | string) => new Blob([bytes]);

describe('the import wizard reading the start of a file', () => {
  it('detects a semicolon, Latin-1 and quoted fields with delimiters and line breaks', async () => {
    const latin1 = Uint8Array.from(Buffer.from('E-Mail;Vorname;Notiz\r\nanna@example.com;Jürgen;"a; b\nc"\r\nben@example.com;Zoë;x\r\n', 'latin1'));
    const head = await readHead(file(latin1));
    expect(head).toMatchObject({ delimiter: ';', encoding: 'latin1', bom: false, header: ['E-Mail', 'Vorname', 'Notiz'] });
    expect(head.rows).toEqual([
      ['anna@example.com', 'Jürgen', 'a; b\nc'],
      ['ben@example.com', 'Zoë', 'x'],
    ]);
  });

  it('reads UTF-8 with a BOM and tabs, and at most the rows asked for', async () => {
    const text = `\uFEFFemail\tFirst Name\n${Array.from({ length: 10 }, (_, i) => `u${i}@example.com\tÄnne`).join('\n')}\n`;
    const head = await readHead(file(text), 3);
    expect(head).toMatchObject({ delimiter: '\t', encoding: 'utf-8', bom: true, header: ['email', 'First Name'] });
    expect(head.rows).toHaveLength(3);
    expect(head.rows[0]).toEqual(['u0@example.com', 'Änne']);
  });

  it('recognises the usual header names and makes metadata keys of the others', () => {
    expect(['Email Address', 'e-mail', 'Vorname', 'Surname', 'Tags', 'Plan'].map(guessTarget)).toEqual([
      'email',
      'email',
      'first_name',
      'last_name',
      'tags',
      'metadata',
    ]);
    expect(metadataKeyOf('Plan type (2024)')).toBe('plan_type_2024');
    expect(metadataKeyOf('Größe')).toBe('grosse');
  });
});
