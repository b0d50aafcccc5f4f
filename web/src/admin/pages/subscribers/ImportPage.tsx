import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@shared/ui/Button';
import { useConfirm } from '@shared/ui/Confirm';
import { useToast } from '@shared/ui/Toasts';
import { api, ApiRequestError, describeError, organizationStore, unwrap, type ResponseOf } from '../../api';
import { downloadFromApi } from '../../download';
import { keys } from '../../keys';
import { Link, setSearch, useLocation } from '../../router';
import { useOrganization } from '../../session';
import { Checkbox, Field, FormError } from '../../ui/Fields';
import { Badge, formatDateTime, formatNumber } from '../../ui/misc';
import { Page, Section } from '../../ui/Page';
import { EmptyState, ErrorState, Loading } from '../../ui/States';
import { DELIMITER_NAMES, ENCODING_NAMES, guessTarget, METADATA_KEY, metadataKeyOf, readHead, type CsvHead, type Target } from './csvHead';

type Import = ResponseOf<'/api/v1/subscribers/imports/{id}', 'get'>;
type MetadataType = 'string' | 'number' | 'boolean' | 'date';

const TARGETS: [Target, string][] = [
  ['email', 'Email'],
  ['first_name', 'First name'],
  ['last_name', 'Last name'],
  ['tags', 'Tags (separated by ; or |)'],
  ['metadata', 'Custom field'],
  ['ignore', 'Do not import'],
];
const TYPES: [MetadataType, string][] = [
  ['string', 'Text'],
  ['number', 'Number'],
  ['boolean', 'Yes/no'],
  ['date', 'Date'],
];

/** Sentences for the reasons a row is skipped or refused (the API's codes). */
const REASONS: Record<string, string> = {
  duplicate_in_file: 'Appears earlier in the file',
  exists: 'Already a subscriber (updating is off)',
  suppressed: 'On the suppression list',
  wrong_column_count: 'Not as many columns as the header',
  malformed_row: 'Not valid CSV (a quote is not closed)',
  missing_email: 'No email',
  invalid_email: 'Not a valid email address',
  control_characters: 'Contains control characters',
  too_long: 'A value is too long',
  invalid_tag: 'A tag name needs a letter or digit and at most 100 characters',
  too_many_tags: 'More than 50 tags',
  not_a_number: 'A custom field is not a number',
  not_a_boolean: 'A custom field is not yes/no',
  not_a_date: 'A custom field is not a date',
  metadata_too_large: 'The custom fields are larger than 16 KB',
};
const ACTIONS: Record<string, string> = {
  create: 'New',
  update: 'Update',
  unchanged: 'Unchanged',
  skip_exists: 'Skipped: exists',
  skip_suppressed: 'Skipped: suppressed',
};
const reason = (code: string) => REASONS[code] ?? code.replace(/_/g, ' ');

/** The API's import codes in the dashboard's words. */
function describeImportError(error: unknown): string {
  if (error instanceof ApiRequestError) {
    if (error.code === 'file_too_large') return 'The file is larger than this server accepts. Split it into smaller files.';
    if (error.code === 'invalid_csv') return `This does not look like a CSV file: ${error.message}.`;
    if (error.code === 'invalid_mapping') return `Check the columns: ${error.message}.`;
    if (error.code === 'import_finished') return 'This import has already ended.';
    if (error.code === 'not_a_finished_dry_run') return 'Only a finished check can be imported. Reload the page.';
  }
  return describeError(error);
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const formatBytes = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Sends the file as multipart (options first, as the API wants), reporting the upload's progress; fetch
 * cannot report upload progress, XMLHttpRequest can.
 */
function uploadImport(file: File, options: object, onProgress: (fraction: number) => void): Promise<Import> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${import.meta.env.VITE_API_URL ?? ''}/api/v1/subscribers/imports`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('X-Requested-With', 'subscribe-flow');
    const organization = organizationStore.get();
    if (organization) xhr.setRequestHeader('X-Organization-Id', organization);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status === 202) resolve(xhr.response as Import);
      else reject(new ApiRequestError(xhr.status, xhr.response ?? undefined));
    };
    xhr.onerror = () => reject(new TypeError('network'));
    const body = new FormData();
    body.append('options', JSON.stringify(options));
    body.append('file', file, file.name);
    xhr.send(body);
  });
}

interface Column {
  target: Target;
  key: string;
  type: MetadataType;
}

export default function ImportPage() {
  const { search } = useLocation();
  const id = search.get('id');
  const { can } = useOrganization();
  if (!can('admin'))
    return (
      <Page title="Import subscribers" back={{ to: '/subscribers', label: 'Subscribers' }}>
        <EmptyState title="Not available with your role">Ask an admin of this organization to import subscribers.</EmptyState>
      </Page>
    );
  return (
    <Page
      title="Import subscribers"
      description="From a CSV file: check it first, then import. Statuses of people who unsubscribed or bounced are never changed."
      back={{ to: '/subscribers', label: 'Subscribers' }}
    >
      {id ? <ImportRun key={id} id={id} /> : <ImportSetup />}
      <ImportList current={id} />
    </Page>
  );
}

/** Step 1 and 2: choose the file, map its columns, set the options, upload it as a dry run. */
function ImportSetup() {
  const [file, setFile] = useState<File | null>(null);
  const [head, setHead] = useState<CsvHead | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [columns, setColumns] = useState<Column[]>([]);
  const [tags, setTags] = useState('');
  const [updateExisting, setUpdateExisting] = useState(false);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function choose(chosen: File | null) {
    setFile(chosen);
    setHead(null);
    setError(null);
    setReadError(null);
    if (!chosen) return;
    try {
      const read = await readHead(chosen);
      if (read.header.length === 0 || read.header.every((h) => h === '')) {
        setReadError('The file is empty or its first line is not a header.');
        return;
      }
      setHead(read);
      const used = new Set<Target>();
      setColumns(
        read.header.map((name) => {
          let target = guessTarget(name);
          // A second column with a field already taken (two "email" columns) is left out.
          if (target !== 'metadata' && used.has(target)) target = 'ignore';
          used.add(target);
          return { target, key: metadataKeyOf(name), type: 'string' };
        }),
      );
    } catch {
      setReadError('The file could not be read. Choose it again.');
    }
  }

  const tagList = tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const problems: string[] = [];
  if (head) {
    const count = (target: Target) => columns.filter((c) => c.target === target).length;
    if (count('email') === 0) problems.push('Choose the column that holds the email.');
    for (const [target, label] of TARGETS.slice(0, 4)) if (count(target) > 1) problems.push(`Only one column can be “${label}”.`);
    const metadataKeys = columns.filter((c) => c.target === 'metadata').map((c) => c.key);
    if (metadataKeys.some((k) => !METADATA_KEY.test(k))) problems.push('Custom field names use letters, digits, - and _ only (at most 100).');
    if (new Set(metadataKeys).size < metadataKeys.length) problems.push('Two columns go to the same custom field.');
    const widths = new Set(head.rows.map((r) => r.length));
    if ([...widths].some((w) => w !== head.header.length))
      problems.push('Some of the first rows do not have as many columns as the header; those rows will be refused.');
    if (head.header.some((h) => h === '')) problems.push('A column has no name in the header; it is not imported.');
  }
  if (tagList.length > 20) problems.push('Add at most 20 tags.');
  if (tagList.some((t) => t.length > 100)) problems.push('A tag is longer than 100 characters.');
  const blocking = problems.filter((p) => !p.startsWith('Some of the first rows') && !p.startsWith('A column has no name'));

  async function check() {
    if (!file || !head || blocking.length > 0) return;
    const mapping: Record<string, string> = {};
    const metadataTypes: Record<string, MetadataType> = {};
    head.header.forEach((name, index) => {
      const column = columns[index]!;
      if (name === '') return;
      mapping[name] = column.target === 'metadata' ? `metadata.${column.key}` : column.target;
      if (column.target === 'metadata' && column.type !== 'string') metadataTypes[column.key] = column.type;
    });
    setError(null);
    setProgress(0);
    try {
      const created = await uploadImport(
        file,
        { mapping, metadata_types: metadataTypes, tags: tagList, update_existing: updateExisting, dry_run: true },
        setProgress,
      );
      setSearch({ id: created.id });
    } catch (failure) {
      setError(describeImportError(failure));
      setProgress(null);
    }
  }

  const setColumn = (index: number, change: Partial<Column>) => setColumns(columns.map((c, i) => (i === index ? { ...c, ...change } : c)));

  return (
    <>
      <Section title="1. Choose a CSV file" id="import-file">
        <div className="sf-field">
          <label htmlFor="import-file-input" className="sf-field-label">
            CSV file
          </label>
          <p id="import-file-hint" className="sf-field-hint">
            The first line names the columns. Comma, semicolon or tab separated; UTF-8 or Latin-1.
          </p>
          <input
            id="import-file-input"
            type="file"
            accept=".csv,.txt,text/csv"
            aria-describedby="import-file-hint"
            onChange={(e) => void choose(e.currentTarget.files?.[0] ?? null)}
          />
        </div>
        {readError ? <FormError message={readError} /> : null}
        {file && head ? (
          <p className="muted" data-testid="detected">
            {file.name} · {formatBytes(file.size)} · {DELIMITER_NAMES[head.delimiter]} separated · {ENCODING_NAMES[head.encoding]}
            {head.bom ? ' with BOM' : ''} · {head.header.length} columns
          </p>
        ) : null}
      </Section>

      {file && head ? (
        <>
          <Section title="2. Match the columns" id="import-mapping">
            <p className="muted small">The first rows of the file, and where each column goes.</p>
            <div className="table-wrap">
              <table className="data-table import-mapping">
                <caption className="sf-visually-hidden">Columns of the file with their first values</caption>
                <thead>
                  <tr>
                    <th scope="col">Column</th>
                    <th scope="col">Goes to</th>
                    <th scope="col">First values</th>
                  </tr>
                </thead>
                <tbody>
                  {head.header.map((name, index) => {
                    const column = columns[index]!;
                    return (
                      <tr key={index}>
                        <th scope="row">{name || <span className="muted">(no name)</span>}</th>
                        <td>
                          <label className="sf-visually-hidden" htmlFor={`target-${index}`}>
                            Where “{name}” goes
                          </label>
                          <select
                            id={`target-${index}`}
                            className="sf-input"
                            value={column.target}
                            disabled={name === ''}
                            onChange={(e) => setColumn(index, { target: e.currentTarget.value as Target })}
                          >
                            {TARGETS.map(([value, label]) => (
                              <option key={value} value={value}>
                                {label}
                              </option>
                            ))}
                          </select>
                          {column.target === 'metadata' ? (
                            <div className="import-metadata">
                              <label className="sf-visually-hidden" htmlFor={`key-${index}`}>
                                Custom field name for “{name}”
                              </label>
                              <input
                                id={`key-${index}`}
                                className="sf-input"
                                value={column.key}
                                maxLength={100}
                                onChange={(e) => setColumn(index, { key: e.currentTarget.value })}
                              />
                              <label className="sf-visually-hidden" htmlFor={`type-${index}`}>
                                Type of “{name}”
                              </label>
                              <select
                                id={`type-${index}`}
                                className="sf-input"
                                value={column.type}
                                onChange={(e) => setColumn(index, { type: e.currentTarget.value as MetadataType })}
                              >
                                {TYPES.map(([value, label]) => (
                                  <option key={value} value={value}>
                                    {label}
                                  </option>
                                ))}
                              </select>
                            </div>
                          ) : null}
                        </td>
                        <td className="import-values">
                          {head.rows.length === 0 ? (
                            <span className="muted">No rows</span>
                          ) : (
                            head.rows.slice(0, 3).map((row, r) => (
                              <span key={r} className="import-value">
                                {row[index] || '—'}
                              </span>
                            ))
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </Section>

          <Section title="3. Options" id="import-options">
            <Field
              id="import-tags"
              label="Tags to add to every row"
              hint="Separated by commas. New tags are created as private."
              value={tags}
              onChange={(e) => setTags(e.currentTarget.value)}
            />
            <Checkbox
              id="import-update"
              label="Update subscribers who already exist"
              hint="Their names, custom fields and tags are updated. Their status never changes."
              checked={updateExisting}
              onChange={(e) => setUpdateExisting(e.currentTarget.checked)}
            />
          </Section>

          {problems.length > 0 ? (
            <div className="card" role="alert" aria-label="Problems found">
              <p className="state-title">Before importing</p>
              <ul>
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          ) : null}
          <FormError message={error} />
          {progress !== null ? (
            <div className="import-progress">
              <label htmlFor="upload-progress">Uploading {Math.round(progress * 100)}%</label>
              <progress id="upload-progress" className="usage" max={1} value={progress} />
            </div>
          ) : null}
          <div className="form-actions">
            <Button variant="primary" busy={progress !== null} aria-disabled={blocking.length > 0 || undefined} onClick={() => void check()}>
              Check the file
            </Button>
            <span className="muted small">Nothing is imported yet: the check counts what the import would do.</span>
          </div>
        </>
      ) : null}
    </>
  );
}

/** A dry run's result, a running import's progress, or a finished import's report; survives a reload (id in the URL). */
function ImportRun({ id }: { id: string }) {
  const { organizationId } = useOrganization();
  const queryClient = useQueryClient();
  const confirm = useConfirm();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const query = useQuery({
    queryKey: [...keys.org(organizationId), 'imports', 'detail', id],
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/imports/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data && ['queued', 'running'].includes(q.state.data.status) ? 1000 : false),
  });
  if (query.isPending) return <Loading label="Loading the import…" />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  const run = query.data;
  const active = run.status === 'queued' || run.status === 'running';
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: [...keys.org(organizationId), 'imports'] }),
      queryClient.invalidateQueries({ queryKey: keys.subscribers.all(organizationId) }),
      queryClient.invalidateQueries({ queryKey: keys.tags.all(organizationId) }),
    ]);

  async function start() {
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/api/v1/subscribers/imports/{id}/start', { params: { path: { id } } }));
      await refresh();
    } catch (failure) {
      setError(describeImportError(failure));
    } finally {
      setBusy(false);
    }
  }

  async function cancel() {
    if (!(await confirm({ title: 'Cancel this import?', message: 'Nothing of it is imported.', confirmLabel: 'Cancel import', danger: true }))) return;
    setBusy(true);
    try {
      await unwrap(api.DELETE('/api/v1/subscribers/imports/{id}', { params: { path: { id } } }));
      toast.success('Import cancelled.');
      await refresh();
    } catch (failure) {
      toast.error(describeImportError(failure));
    } finally {
      setBusy(false);
    }
  }

  async function errorsFile() {
    try {
      await downloadFromApi(`/api/v1/subscribers/imports/${id}/errors.csv`, `import-${id}-errors.csv`);
    } catch (failure) {
      toast.error(describeImportError(failure));
    }
  }

  const title = run.dry_run
    ? active
      ? 'Checking the file…'
      : run.status === 'completed'
        ? 'Check finished'
        : `Check ${run.status}`
    : active
      ? run.status === 'queued'
        ? 'Import waiting to start…'
        : 'Importing…'
      : run.status === 'completed'
        ? 'Import finished'
        : `Import ${run.status}`;
  const skipped = Object.entries(run.skipped).filter(([, n]) => n > 0);
  const skippedTotal = skipped.reduce((sum, [, n]) => sum + n, 0);
  const fraction = run.total ? run.processed / run.total : run.file_bytes ? run.bytes_processed / run.file_bytes : 0;
  const phase =
    run.phase === 'staging' ? 'Reading the file' : run.phase === 'validating' ? 'Checking the rows' : run.phase === 'merging' ? 'Saving' : 'Waiting';

  return (
    <Section
      title={title}
      id="import-run"
      actions={
        <Link className="sf-button sf-button--link" to="/subscribers/import">
          New import
        </Link>
      }
    >
      <p className="muted small">
        {run.file_name} · {formatBytes(run.file_bytes)} · {DELIMITER_NAMES[run.detected.delimiter] ?? run.detected.delimiter} separated ·{' '}
        {ENCODING_NAMES[run.detected.encoding] ?? run.detected.encoding}
        {run.tags.length ? ` · adds ${run.tags.join(', ')}` : ''}
        {run.update_existing ? ' · updates existing subscribers' : ''}
      </p>

      {active ? (
        <div className="import-progress" aria-live="polite">
          <label htmlFor="import-progress-bar">
            {phase}: {Math.round(fraction * 100)}%
          </label>
          <progress id="import-progress-bar" className="usage" max={1} value={fraction} />
          <p className="muted small" data-testid="import-rate">
            {formatNumber(run.processed)}
            {run.total !== null ? ` of ${formatNumber(run.total)}` : ''} rows ·{' '}
            {run.rows_per_second !== null ? `${formatNumber(run.rows_per_second)} rows/s` : 'measuring speed'} ·{' '}
            {run.eta_seconds !== null ? `about ${formatDuration(run.eta_seconds)} left` : 'time left not known yet'}
          </p>
          <Button variant="danger" busy={busy} onClick={() => void cancel()}>
            Cancel import
          </Button>
        </div>
      ) : null}

      {run.status === 'failed' ? (
        <p className="form-error" role="alert">
          {run.error?.message ?? 'The import failed; nothing was imported.'}
        </p>
      ) : null}
      {run.status === 'cancelled' ? <p role="status">This import was cancelled; nothing of it was imported.</p> : null}

      {run.status === 'completed' ? (
        <>
          <dl className="import-counts" aria-label={run.dry_run ? 'What the import would do' : 'What was imported'}>
            <div>
              <dt>{run.dry_run ? 'Would create' : 'Created'}</dt>
              <dd>{formatNumber(run.created)}</dd>
            </div>
            <div>
              <dt>{run.dry_run ? 'Would update' : 'Updated'}</dt>
              <dd>{formatNumber(run.updated)}</dd>
            </div>
            <div>
              <dt>Unchanged</dt>
              <dd>{formatNumber(run.unchanged)}</dd>
            </div>
            <div>
              <dt>{run.dry_run ? 'Would skip' : 'Skipped'}</dt>
              <dd>{formatNumber(skippedTotal)}</dd>
            </div>
            <div>
              <dt>Invalid rows</dt>
              <dd>{formatNumber(run.failed)}</dd>
            </div>
            <div>
              <dt>Rows in the file</dt>
              <dd>{formatNumber(run.total ?? run.processed)}</dd>
            </div>
          </dl>
          {skipped.length > 0 ? (
            <ul className="small">
              {skipped.map(([code, n]) => (
                <li key={code}>
                  {formatNumber(n)} skipped: {reason(code).toLowerCase()}
                </li>
              ))}
            </ul>
          ) : null}
          {run.failed > 0 || skippedTotal > 0 ? (
            <p>
              <Button variant="link" onClick={() => void errorsFile()}>
                Download the rows not imported (errors.csv)
              </Button>
            </p>
          ) : null}
          {!run.dry_run && run.rows_per_second !== null ? (
            <p className="muted small">
              {formatNumber(run.total ?? run.processed)} rows in {formatDuration(run.total && run.rows_per_second ? run.total / run.rows_per_second : null)} (
              {formatNumber(run.rows_per_second)} rows/s).
            </p>
          ) : null}
        </>
      ) : null}

      {run.preview.length > 0 && run.dry_run ? (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="import-caption">The first {run.preview.length} rows as they would be imported</caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Tags</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {run.preview.map((row) => (
                <tr key={row.row}>
                  <td>{row.row}</td>
                  <td>{row.email ?? <span className="muted">—</span>}</td>
                  <td>{[row.first_name, row.last_name].filter(Boolean).join(' ') || <span className="muted">—</span>}</td>
                  <td>{row.tags.length ? row.tags.join(', ') : <span className="muted">—</span>}</td>
                  <td>{ACTIONS[row.action] ?? reason(row.action)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <FormError message={error} />
      {run.dry_run && run.status === 'completed' ? (
        <div className="form-actions">
          <Button variant="primary" busy={busy} onClick={() => void start()}>
            {run.created + run.updated > 0 ? `Import ${formatNumber(run.created + run.updated)} subscribers` : 'Import'}
          </Button>
          <Link to="/subscribers/import">Choose another file or other settings</Link>
        </div>
      ) : null}
      {!run.dry_run && run.status === 'completed' ? (
        <p>
          <Link to="/subscribers">Go to the subscribers</Link>
        </p>
      ) : null}
    </Section>
  );
}

/** Earlier imports, newest first, with who started them. */
function ImportList({ current }: { current: string | null }) {
  const { organizationId } = useOrganization();
  const list = useQuery({
    queryKey: [...keys.org(organizationId), 'imports', 'list'],
    queryFn: () => unwrap(api.GET('/api/v1/subscribers/imports', { params: { query: { limit: 20 } } })),
    refetchInterval: (q) => (q.state.data?.items.some((i) => i.status === 'queued' || i.status === 'running') ? 2000 : false),
  });
  return (
    <Section title="Recent imports" id="import-list">
      {list.isPending ? (
        <Loading label="Loading imports…" />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState title="No imports yet">Files you check or import appear here.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sf-visually-hidden">Recent imports, newest first</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col">Rows</th>
                <th scope="col">Started by</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((item) => (
                <tr key={item.id} aria-current={item.id === current ? 'true' : undefined}>
                  <td>
                    <Link to={`/subscribers/import?id=${item.id}`}>{item.file_name}</Link>
                    {item.dry_run ? <span className="muted small"> (check)</span> : null}
                  </td>
                  <td>
                    <Badge status={item.status} />
                  </td>
                  <td>{item.total !== null ? formatNumber(item.total) : '—'}</td>
                  <td>{item.created_by ? (item.created_by.email ?? (item.created_by.type === 'api_key' ? 'An API key' : 'A member')) : '—'}</td>
                  <td>{formatDateTime(item.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
