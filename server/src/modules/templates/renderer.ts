import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Liquid, type Template } from 'liquidjs';
import type Mjml from 'mjml';
import { unprocessable, type ErrorDetail } from '../../lib/errors.ts';
import { withFooter } from './footer.ts';
import { htmlToText } from './html-to-text.ts';

export type TemplateCategory = 'transactional' | 'marketing';

/**
 * What rendering needs of a template; `version` changes whenever the stored template does. An unsaved
 * draft (a preview of edits) has no version: it is parsed for its own render and never cached, so drafts
 * typed in the editor cannot push stored templates out of the cache.
 */
export interface RenderableTemplate {
  id: string;
  version: string | null;
  subject: string;
  compiledHtml: string;
  variablesSchema: Record<string, unknown>;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** Variables the engine provides itself; callers cannot pass them. */
export const SYSTEM_VARIABLES = ['subscriber', 'organization', 'preference_center_url', 'unsubscribe_url', 'footer'] as const;

// Bounds that keep one template from taking the worker down: parse and render time, and memory.
const LIMITS = { parseLimit: 1_000_000, renderLimit: 2000, memoryLimit: 50_000_000 };
const CACHE_ENTRIES = 500;

const mjmlProblem = (message: string): ErrorDetail => ({ field: 'mjml_content', message });
// MJML and its components take about 90 MB; only processes that save templates (the API) load them.
type Mjml2Html = typeof Mjml;
let mjmlModule: Promise<Mjml2Html> | undefined;
const loadMjml = () => (mjmlModule ??= import('mjml').then((loaded) => (loaded as unknown as { default: Mjml2Html }).default));
const withoutPosition = (message: string): string => message.replace(/, line:\d+, col:\d+$/, '').replace(/^[A-Za-z]+Error: /, '');

/**
 * MJML compiled once when a template is saved; Liquid rendered for each email. Liquid runs sandboxed: no
 * file system (include and render find nothing), only own properties of the data, time and memory limits,
 * strict variables (a missing one is an error, except in an `if`) and strict filters. HTML output escapes
 * every variable; the subject is plain text.
 */
export function createTemplateRenderer() {
  const common = { strictVariables: true, strictFilters: true, lenientIf: true, ownPropertyOnly: true, templates: {}, relativeReference: false, ...LIMITS } as const;
  const htmlEngine = new Liquid({ ...common, outputEscape: 'escape' });
  const textEngine = new Liquid(common);
  const ajv = new Ajv({ allErrors: true, strict: false });
  type Prepared = { subject: Template[]; html: Template[]; validate: ValidateFunction };
  const parsed = new Map<string, Prepared>();
  // Drafts are keyed by the object itself: checking variables and rendering share one parse, and the
  // entry goes away with the request.
  const drafts = new WeakMap<RenderableTemplate, Prepared>();

  function parseOrThrow(engine: Liquid, source: string, field: string): Template[] {
    try {
      return engine.parse(source);
    } catch (error) {
      throw unprocessable('template_invalid_liquid', `The ${field === 'subject' ? 'subject' : 'template'} has a Liquid syntax error`, [{ field, message: (error as Error).message }]);
    }
  }

  function compileSchema(schema: Record<string, unknown>): ValidateFunction {
    try {
      return ajv.compile(schema);
    } catch (error) {
      throw unprocessable('validation_error', 'variables_schema is not a valid JSON Schema', [{ field: 'variables_schema', message: (error as Error).message }]);
    }
  }

  const parse = (template: RenderableTemplate): Prepared => ({
    subject: parseOrThrow(textEngine, template.subject, 'subject'),
    html: parseOrThrow(htmlEngine, template.compiledHtml, 'mjml_content'),
    validate: compileSchema(template.variablesSchema),
  });

  /** Parsed forms of a template version, kept for the most recently used versions. */
  function prepared(template: RenderableTemplate): Prepared {
    if (template.version === null) {
      let draft = drafts.get(template);
      if (!draft) drafts.set(template, (draft = parse(template)));
      return draft;
    }
    const key = `${template.id}:${template.version}`;
    let entry = parsed.get(key);
    if (entry) {
      parsed.delete(key);
      parsed.set(key, entry);
      return entry;
    }
    entry = parse(template);
    parsed.set(key, entry);
    if (parsed.size > CACHE_ENTRIES) parsed.delete(parsed.keys().next().value!);
    return entry;
  }

  function renderFailure(error: unknown, field: string): never {
    const message = (error as Error).message ?? String(error);
    const missing = /undefined variable: ([^,]+)/.exec(message);
    if (missing) {
      throw unprocessable('template_variable_missing', `The template needs the variable "${missing[1]}"`, [{ field: `variables.${missing[1]}`, message: `is used in the ${field === 'subject' ? 'subject' : 'body'} but was not given` }]);
    }
    throw unprocessable('template_render_failed', 'The template could not be rendered with these variables', [{ field, message: withoutPosition(message) }]);
  }

  return {
    /**
     * Checks a template's Liquid and MJML and compiles the MJML to HTML (with the footer for marketing
     * mail). Every problem is a 422 naming the field and, for MJML, the line.
     */
    async compile(input: { subject: string; mjml: string; category: TemplateCategory; variablesSchema: Record<string, unknown> }): Promise<string> {
      parseOrThrow(textEngine, input.subject, 'subject');
      parseOrThrow(htmlEngine, input.mjml, 'mjml_content');
      compileSchema(input.variablesSchema);
      const source = input.category === 'marketing' ? withFooter(input.mjml) : input.mjml;
      if (source === undefined || !/<mjml[\s>]/.test(input.mjml)) {
        throw unprocessable('template_invalid_mjml', 'The template is not an MJML document', [mjmlProblem('must be an <mjml> document with an <mj-body>')]);
      }
      let html: string;
      try {
        // Includes are ignored: a template must not read files of the server.
        const mjml2html = await loadMjml();
        // No web fonts: MJML's default adds a Google Fonts stylesheet, which tells Google each reader's
        // address whenever an email is opened. Email clients fall back to the font stack anyway.
        html = (await mjml2html(source, { validationLevel: 'strict', ignoreIncludes: true, keepComments: false, fonts: {} })).html;
      } catch (error) {
        const problems = (error as { errors?: { line?: number; message: string }[] }).errors ?? [];
        const details = problems.length > 0
          ? problems.slice(0, 20).map((p) => mjmlProblem(p.line ? `line ${p.line}: ${p.message}` : p.message))
          : [mjmlProblem((error as Error).message || 'could not be parsed')];
        throw unprocessable('template_invalid_mjml', 'The template is not valid MJML', details);
      }
      // MJML keeps Liquid as text; make sure what it produced still parses.
      parseOrThrow(htmlEngine, html, 'mjml_content');
      return html;
    },

    /** Checks caller variables against the template's variables_schema; 422 naming each field. */
    checkVariables(template: RenderableTemplate, variables: Record<string, unknown>): void {
      const reserved = Object.keys(variables).filter((name) => (SYSTEM_VARIABLES as readonly string[]).includes(name));
      if (reserved.length > 0) {
        throw unprocessable('validation_error', 'These variables are provided by Subscribe Flow and cannot be passed', reserved.map((name) => ({ field: `variables.${name}`, message: 'is a reserved variable' })));
      }
      const { validate } = prepared(template);
      if (!validate(variables)) {
        throw unprocessable('template_variables_invalid', 'The variables do not match the template\'s variables_schema', variableProblems(validate.errors ?? []));
      }
    },

    /** Renders subject, HTML and text. `context` holds caller variables and system variables. */
    async render(template: RenderableTemplate, context: Record<string, unknown>): Promise<RenderedEmail> {
      const entry = prepared(template);
      let subject: string;
      let html: string;
      try {
        subject = await textEngine.render(entry.subject, context);
      } catch (error) {
        renderFailure(error, 'subject');
      }
      try {
        html = await htmlEngine.render(entry.html, context);
      } catch (error) {
        renderFailure(error, 'mjml_content');
      }
      // A subject is one header line.
      return { subject: subject.replace(/[\r\n]+/g, ' ').trim(), html, text: htmlToText(html) };
    },
  };
}

function variableProblems(errors: ErrorObject[]): ErrorDetail[] {
  return errors.slice(0, 20).map((error) => {
    const segments = error.instancePath.split('/').filter(Boolean);
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    if (missing) segments.push(missing);
    return { field: ['variables', ...segments].join('.'), message: error.message ?? 'is invalid' };
  });
}

export type TemplateRenderer = ReturnType<typeof createTemplateRenderer>;
