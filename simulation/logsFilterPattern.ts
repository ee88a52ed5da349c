/**
 * An evaluator for the part of CloudWatch Logs' JSON filter pattern syntax this project writes (functions/recordPattern.ts
 * and the download-threshold patterns), following
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html . The FilterLogEvents fake
 * evaluates patterns with it, and property tests use it as an oracle for generated subscription filters.
 *
 * - `{ expression }`; expressions joined by `&&` or `||`, with parentheses. Mixing `&&` and `||` at one level without
 *   parentheses is refused: the generators must never rely on precedence.
 * - Selectors `$.a.b` (object fields) and `$.a[0]` (array elements); a missing field never matches `=`.
 * - `selector = "text"` / `selector != "text"`: a string field equal (not equal) to the text, where `*` matches any
 *   run of characters; `\"` and `\\` inside the quotes stand for `"` and `\`. `selector = 12` / `!= 12` for numbers.
 *   `!=` needs the field to exist.
 * - The value may also be written without quotes, as AWS's own examples do (`$.eventSource=kms.amazonaws.com`,
 *   `$.sourceIPAddress != 123.123.*`): a run of characters up to a space, a parenthesis, `&&` or `||`; a number when
 *   it reads as one, text otherwise (with `*` a wildcard).
 * - `selector IS TRUE`, `IS FALSE`, `IS NULL`, `selector NOT EXISTS`.
 *
 * Anything else is refused, so a malformed pattern fails a test instead of matching silently.
 */

type Matcher = (event: unknown) => boolean;

/** Thrown for a pattern the evaluator (and CloudWatch Logs) would reject. */
export function invalidPattern(pattern: string, reason: string): Error {
  const error = new Error(`Invalid filter pattern ${JSON.stringify(pattern)}: ${reason}`);
  error.name = "InvalidParameterException";
  return error;
}

interface Token {
  kind: "(" | ")" | "&&" | "||" | "op" | "selector" | "string" | "number" | "word";
  text: string;
  /** For strings: the value with escapes resolved and wildcard positions. */
  value?: { text: string; wildcards: boolean[] };
}

function tokenize(source: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c, text: c });
      i += 1;
    } else if (source.startsWith("&&", i) || source.startsWith("||", i)) {
      tokens.push({ kind: source.slice(i, i + 2) as "&&" | "||", text: source.slice(i, i + 2) });
      i += 2;
    } else if (source.startsWith("!=", i) || c === "=") {
      const op = c === "=" ? "=" : "!=";
      tokens.push({ kind: "op", text: op });
      i += op.length;
      while (i < source.length && /\s/.test(source[i])) {
        i += 1;
      }
      const bare = /^[^\s()&|"=!]+/.exec(source.slice(i));
      if (bare !== null) {
        i += bare[0].length;
        tokens.push(bareOperand(bare[0]));
      }
    } else if (c === '"') {
      let text = "";
      const wildcards: boolean[] = [];
      i += 1;
      while (i < source.length && source[i] !== '"') {
        if (source[i] === "\\") {
          const next = source[i + 1];
          if (next !== '"' && next !== "\\") {
            throw invalidPattern(pattern, `unknown escape \\${next ?? ""} at ${i}`);
          }
          text += next;
          wildcards.push(false);
          i += 2;
        } else {
          text += source[i];
          wildcards.push(source[i] === "*");
          i += 1;
        }
      }
      if (source[i] !== '"') {
        throw invalidPattern(pattern, "unterminated string");
      }
      i += 1;
      tokens.push({ kind: "string", text, value: { text, wildcards } });
    } else if (c === "$") {
      const match = /^\$(\.[A-Za-z_][\w-]*|\[\d+\])*/.exec(source.slice(i))![0];
      tokens.push({ kind: "selector", text: match });
      i += match.length;
    } else if (/[-\d]/.test(c)) {
      const match = /^-?\d+(\.\d+)?/.exec(source.slice(i));
      if (!match) {
        throw invalidPattern(pattern, `unexpected ${c} at ${i}`);
      }
      tokens.push({ kind: "number", text: match[0] });
      i += match[0].length;
    } else if (/[A-Z]/.test(c)) {
      const match = /^[A-Z]+/.exec(source.slice(i))![0];
      tokens.push({ kind: "word", text: match });
      i += match.length;
    } else {
      throw invalidPattern(pattern, `unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  return tokens;
}

/** An unquoted comparison value: a number when it reads as one, otherwise text in which `*` is a wildcard. */
function bareOperand(text: string): Token {
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    return { kind: "number", text };
  }
  return { kind: "string", text, value: { text, wildcards: Array.from({ length: text.length }, (_, i) => text[i] === "*") } };
}

/** The value `selector` points at in `event`, or undefined when there is none. */
function select(event: unknown, selector: string): unknown {
  let value: unknown = event;
  for (const step of selector.slice(1).match(/\.[^.[]+|\[\d+\]/g) ?? []) {
    const element = step.startsWith("[");
    // Fields of objects only, elements of arrays only, and own properties only (a JSON event has no others).
    if (typeof value !== "object" || value === null || Array.isArray(value) !== element) {
      return undefined;
    }
    const name = element ? step.slice(1, -1) : step.slice(1);
    if (!Object.prototype.hasOwnProperty.call(value, name)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

function stringMatcher(value: { text: string; wildcards: boolean[] }): (actual: string) => boolean {
  if (!value.wildcards.some(Boolean)) {
    return (actual) => actual === value.text;
  }
  // Literal runs between wildcards, escaped whole (so that surrogate pairs stay together under the "u" flag).
  const escape = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let source = "";
  let literal = "";
  for (let i = 0; i < value.text.length; i += 1) {
    if (value.wildcards[i]) {
      source += `${escape(literal)}.*`;
      literal = "";
    } else {
      literal += value.text[i];
    }
  }
  source += escape(literal);
  const regex = new RegExp(`^${source}$`, "su");
  return (actual) => regex.test(actual);
}

/** Compiles a JSON filter pattern into a predicate on parsed log events. */
export function compileFilterPattern(pattern: string): Matcher {
  const trimmed = pattern.trim();
  if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) {
    throw invalidPattern(pattern, "JSON patterns are enclosed in { }");
  }
  const tokens = tokenize(trimmed.slice(1, -1), pattern);
  let position = 0;
  const peek = () => tokens[position];
  const take = (kind?: Token["kind"]): Token => {
    const token = tokens[position];
    if (token === undefined || (kind !== undefined && token.kind !== kind)) {
      throw invalidPattern(pattern, `expected ${kind ?? "a token"} at token ${position}, got ${token?.text ?? "the end"}`);
    }
    position += 1;
    return token;
  };

  const comparison = (): Matcher => {
    const selector = take("selector").text;
    const next = take();
    if (next.kind === "word") {
      const second = take("word").text;
      if (next.text === "NOT" && second === "EXISTS") {
        return (event) => select(event, selector) === undefined;
      }
      if (next.text === "IS" && (second === "NULL" || second === "TRUE" || second === "FALSE")) {
        const expected = second === "NULL" ? null : second === "TRUE";
        return (event) => select(event, selector) === expected;
      }
      throw invalidPattern(pattern, `unknown operator ${next.text} ${second}`);
    }
    if (next.kind !== "op") {
      throw invalidPattern(pattern, `expected = or != after ${selector}`);
    }
    const operand = take();
    let test: (actual: unknown) => boolean;
    if (operand.kind === "string") {
      const matches = stringMatcher(operand.value!);
      test = (actual) => typeof actual === "string" && matches(actual);
    } else if (operand.kind === "number") {
      const number = Number(operand.text);
      test = (actual) => actual === number;
    } else {
      throw invalidPattern(pattern, `expected a quoted string or a number after ${selector} ${next.text}`);
    }
    return next.text === "=" ? (event) => test(select(event, selector)) : (event) => select(event, selector) !== undefined && !test(select(event, selector));
  };
  const primary = (): Matcher => {
    if (peek()?.kind === "(") {
      take("(");
      const inner = expression();
      take(")");
      return inner;
    }
    return comparison();
  };
  const expression = (): Matcher => {
    const parts = [primary()];
    let operator: "&&" | "||" | undefined;
    for (let next = peek()?.kind; next === "&&" || next === "||"; next = peek()?.kind) {
      if (operator !== undefined && operator !== next) {
        throw invalidPattern(pattern, `mixed && and || without parentheses at token ${position}`);
      }
      operator = next;
      take(next);
      parts.push(primary());
    }
    if (parts.length === 1) {
      return parts[0];
    }
    return operator === "&&" ? (event) => parts.every((part) => part(event)) : (event) => parts.some((part) => part(event));
  };

  const matcher = expression();
  if (position !== tokens.length) {
    throw invalidPattern(pattern, `unexpected ${tokens[position].text} at token ${position}`);
  }
  return matcher;
}

/** True when the filter pattern matches the JSON log event; "" (blank) matches every event. Throws on a pattern it refuses. */
export function logsFilterMatches(pattern: string, event: unknown): boolean {
  return pattern.trim() === "" || compileFilterPattern(pattern)(event);
}
