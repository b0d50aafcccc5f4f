import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Context, Liquid, toValueSync, type Emitter, type Template } from 'liquidjs';
import { unprocessable, type ErrorDetail } from '../../lib/errors.ts';
import { withFooter } from './footer.ts';
import { htmlToText } from './html-to-text.ts';
import { createMjmlCompiler, type MjmlCompiler } from './mjml-compiler.ts';
import { linearRegExp } from './linear-regexp.ts';
import { neutralizeUnsafeLinks } from './safe-links.ts';

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

// Bounds that keep one template from taking a process down: parse and render time, and memory.
const LIMITS = { parseLimit: 1_000_000, renderLimit: 2000, memoryLimit: 50_000_000 };
/**
 * Rendering is bounded by work done, not only by time: a render runs in the request, on the event loop,
 * so a long loop must be refused after a bounded amount of work, whatever the machine's speed. A step
 * is one node rendered (each text, output or tag, once per loop iteration); an ordinary newsletter takes
 * a few thousand. Output beyond the size limit is refused as well (mail clients clip at about 100 KB).
 */
export const RENDER_LIMITS = { steps: 25_000, outputChars: 1_000_000 } as const;
const CACHE_ENTRIES = 500;

const mjmlProblem = (message: string): ErrorDetail => ({ field: 'mjml_content', message });
const withoutPosition = (message: string): string => message.replace(/, line:\d+, col:\d+$/, '').replace(/^[A-Za-z]+Error: /, '');

/**
 * Liquid's render limiter, counting steps as well as time: liquidjs checks it before every node it
 * renders (`check(now)`), so the count is exactly the work done.
 */
class WorkLimit {
  base = 0;
  message = 'template render limit exceeded';
  readonly limit: number;
  private readonly deadline: number;
  constructor(limit: number, deadline: number) {
    this.limit = limit;
    this.deadline = deadline;
  }
  use(count: number): void {
    this.base += count;
  }
  check(now: number): void {
    this.base += 1;
    if (this.base > this.limit) throw new Error(`template render limit exceeded: more than ${this.limit} steps`);
    if (now > this.deadline) throw new Error('template render limit exceeded: too slow');
  }
}

/** Collects the output and refuses it past the size limit, while rendering rather than after. */
class BoundedEmitter implements Emitter {
  buffer = '';
  write(html: unknown): void {
    const text = typeof html === 'string' ? html : html === null || html === undefined ? '' : String(html);
    if (this.buffer.length + text.length > RENDER_LIMITS.outputChars)
      throw new Error(`template output limit exceeded: more than ${RENDER_LIMITS.outputChars} characters`);
    this.buffer += text;
  }
}

/**
 * Renders synchronously: no tag or filter we allow does I/O (include and render find nothing), and the
 * asynchronous driver costs a promise per node (a fifth of a campaign worker's rendering, and garbage).
 * The step, time and output limits bound how long one render holds the event loop.
 */
function renderBounded(engine: Liquid, templates: Template[], data: Record<string, unknown>): string {
  const limit = new WorkLimit(RENDER_LIMITS.steps, performance.now() + LIMITS.renderLimit);
  const ctx = new Context(data, engine.options, { sync: true }, { renderLimit: limit as unknown as Context['renderLimit'] });
  const emitter = new BoundedEmitter();
  toValueSync(engine.renderer.renderTemplates(templates, ctx, emitter));
  return emitter.buffer;
}

/**
 * MJML compiled once when a template is saved; Liquid rendered for each email. Liquid runs sandboxed: no
 * file system (include and render find nothing), only own properties of the data, time and memory limits,
 * strict variables (a missing one is an error, except in an `if`) and strict filters. HTML output escapes
 * every variable; the subject is plain text.
 */
export function createTemplateRenderer(deps: { mjml?: MjmlCompiler } = {}) {
  const common = {
    strictVariables: true,
    strictFilters: true,
    lenientIf: true,
    ownPropertyOnly: true,
    templates: {},
    relativeReference: false,
    ...LIMITS,
  } as const;
  const htmlEngine = new Liquid({ ...common, outputEscape: 'escape' });
  const textEngine = new Liquid(common);
  const mjml = deps.mjml ?? createMjmlCompiler();
  // `pattern` and `patternProperties` of a variables_schema run on every send and preview: only patterns
  // a linear-time engine accepts (no backreferences or lookaround), so no input can make one backtrack.
  const ajv = new Ajv({ allErrors: true, strict: false, code: { regExp: linearRegExp } });
  type Prepared = { subject: Template[]; html: Template[]; validate: ValidateFunction };
  const parsed = new Map<string, Prepared>();
  // Drafts are keyed by the object itself: checking variables and rendering share one parse, and the
  // entry goes away with the request.
  const drafts = new WeakMap<RenderableTemplate, Prepared>();

  function parseOrThrow(engine: Liquid, source: string, field: string): Template[] {
    try {
      return engine.parse(source);
    } catch (error) {
      throw unprocessable('template_invalid_liquid', `The ${field === 'subject' ? 'subject' : 'template'} has a Liquid syntax error`, [
        { field, message: (error as Error).message },
      ]);
    }
  }

  function compileSchema(schema: Record<string, unknown>): ValidateFunction {
    try {
      return ajv.compile(schema);
    } catch (error) {
      throw unprocessable('validation_error', 'variables_schema is not a valid JSON Schema', [
        { field: 'variables_schema', message: (error as Error).message },
      ]);
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
      throw unprocessable('template_variable_missing', `The template needs the variable "${missing[1]}"`, [
        { field: `variables.${missing[1]}`, message: `is used in the ${field === 'subject' ? 'subject' : 'body'} but was not given` },
      ]);
    }
    throw unprocessable('template_render_failed', 'The template could not be rendered with these variables', [{ field, message: withoutPosition(message) }]);
  }

  async function renderSubject(entry: Prepared, context: Record<string, unknown>): Promise<string> {
    let subject: string;
    try {
      subject = renderBounded(textEngine, entry.subject, context);
    } catch (error) {
      renderFailure(error, 'subject');
    }
    // A subject is one header line.
    return subject.replace(/[\r\n]+/g, ' ').trim();
  }

  async function renderBody(entry: Prepared, context: Record<string, unknown>): Promise<{ html: string; text: string }> {
    let html: string;
    try {
      // A variable may hold any text, so a link built from one could be a script: such links go inert.
      html = neutralizeUnsafeLinks(renderBounded(htmlEngine, entry.html, context));
    } catch (error) {
      renderFailure(error, 'mjml_content');
    }
    return { html, text: htmlToText(html) };
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
      // In a worker thread and once per distinct source (mjml-compiler.ts); includes are ignored there.
      const result = await mjml.compile(source);
      if (!result.ok) {
        const details =
          result.problems.length > 0
            ? result.problems.map((p) => mjmlProblem(p.line ? `line ${p.line}: ${p.message}` : p.message))
            : [mjmlProblem(result.message)];
        throw unprocessable('template_invalid_mjml', 'The template is not valid MJML', details);
      }
      // MJML keeps Liquid as text; make sure what it produced still parses.
      parseOrThrow(htmlEngine, result.html, 'mjml_content');
      return result.html;
    },

    /** Checks caller variables against the template's variables_schema; 422 naming each field. */
    checkVariables(template: RenderableTemplate, variables: Record<string, unknown>): void {
      const reserved = Object.keys(variables).filter((name) => (SYSTEM_VARIABLES as readonly string[]).includes(name));
      if (reserved.length > 0) {
        throw unprocessable(
          'validation_error',
          'These variables are provided by Subscribe Flow and cannot be passed',
          reserved.map((name) => ({ field: `variables.${name}`, message: 'is a reserved variable' })),
        );
      }
      const { validate } = prepared(template);
      if (!validate(variables)) {
        throw unprocessable(
          'template_variables_invalid',
          "The variables do not match the template's variables_schema",
          variableProblems(validate.errors ?? []),
        );
      }
    },

    /** Renders subject, HTML and text. `context` holds caller variables and system variables. */
    async render(template: RenderableTemplate, context: Record<string, unknown>): Promise<RenderedEmail> {
      const entry = prepared(template);
      const subject = await renderSubject(entry, context);
      return { subject, ...(await renderBody(entry, context)) };
    },

    /** The subject alone (a campaign renders it when it claims a recipient, the body when it sends). */
    async renderSubject(template: RenderableTemplate, context: Record<string, unknown>): Promise<string> {
      return renderSubject(prepared(template), context);
    },

    /** HTML and text alone: exactly what `render` gives for them, without rendering the subject again. */
    async renderBody(template: RenderableTemplate, context: Record<string, unknown>): Promise<{ html: string; text: string }> {
      return renderBody(prepared(template), context);
    },

    /** How many MJML documents were compiled and how many results are cached. */
    mjmlStats: () => mjml.stats(),

    /** Stops the MJML worker thread, if one was started. */
    close: () => mjml.close(),
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
