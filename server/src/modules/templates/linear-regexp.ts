import { RE2JS } from 're2js';

/** Longest `pattern` a variables_schema may hold; longer ones are refused when the template is saved. */
export const MAX_PATTERN_LENGTH = 500;

/**
 * The regular-expression engine of variables_schema validation (Ajv's `code.regExp`): RE2 semantics in
 * linear time, so a pattern such as `^(a+)+$` cannot backtrack on hostile input. Patterns RE2 cannot
 * run in linear time (backreferences, lookahead, lookbehind) do not compile, and neither do overlong
 * ones: Ajv compiles patterns with the schema, so both are refused when the template is saved.
 */
export const linearRegExp = Object.assign(
  (pattern: string, _flags: string): { test: (input: string) => boolean } => {
    if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`pattern must be at most ${MAX_PATTERN_LENGTH} characters`);
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(pattern);
    } catch (error) {
      throw new Error(
        `pattern "${pattern.slice(0, 60)}" is not supported (only linear-time patterns: no backreferences or lookaround): ${(error as Error).message}`,
        { cause: error },
      );
    }
    return { test: (input: string) => compiled.test(input) };
  },
  { code: 'linearRegExp' },
);
