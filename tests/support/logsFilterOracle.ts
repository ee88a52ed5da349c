/**
 * A test oracle for the CloudWatch Logs JSON filter patterns this project generates: it parses a pattern and evaluates
 * it on a JSON log event by the documented rules, so that property tests can check that a generated pattern matches
 * at least the records it is meant to. It implements the subset the generator uses:
 *
 * - `{ expression }`; expressions joined by `&&` or `||` (mixing both at one level without parentheses is refused:
 *   the generator must never rely on precedence); parentheses.
 * - `$.a.b = "text"`: the field must hold a string equal to the text, where `*` matches any run of characters;
 *   `\"` and `\\` inside the quotes stand for `"` and `\` (the escaping AWS's CDK uses).
 * - `$.a = 12` (numbers), `$.a IS TRUE`, `$.a IS FALSE`, `$.a IS NULL`.
 * - A missing field never matches.
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
type Node = { and: Node[] } | { or: Node[] } | { path: string[]; op: "=" | "IS"; value: string | number | boolean | null };

class Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  parse(): Node {
    this.skip();
    this.expect("{");
    const node = this.expression();
    this.expect("}");
    this.skip();
    if (this.i !== this.text.length) throw new Error(`trailing text at ${this.i}: ${this.text.slice(this.i)}`);
    return node;
  }

  private expression(): Node {
    const terms = [this.term()];
    let op: "&&" | "||" | undefined;
    for (;;) {
      this.skip();
      const next = this.text.startsWith("&&", this.i) ? "&&" : this.text.startsWith("||", this.i) ? "||" : undefined;
      if (next === undefined) break;
      if (op !== undefined && op !== next) throw new Error(`mixed && and || without parentheses at ${this.i}`);
      op = next;
      this.i += 2;
      terms.push(this.term());
    }
    if (terms.length === 1) return terms[0];
    return op === "&&" ? { and: terms } : { or: terms };
  }

  private term(): Node {
    this.skip();
    if (this.text[this.i] === "(") {
      this.i += 1;
      const node = this.expression();
      this.expect(")");
      return node;
    }
    const match = /^\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/.exec(this.text.slice(this.i));
    if (!match) throw new Error(`selector expected at ${this.i}: ${this.text.slice(this.i, this.i + 20)}`);
    this.i += match[0].length;
    const path = match[1].slice(1).split(".");
    this.skip();
    if (this.text.startsWith("IS ", this.i)) {
      this.i += 3;
      const word = /^(TRUE|FALSE|NULL)/.exec(this.text.slice(this.i));
      if (!word) throw new Error(`TRUE, FALSE or NULL expected at ${this.i}`);
      this.i += word[0].length;
      return { path, op: "IS", value: word[0] === "NULL" ? null : word[0] === "TRUE" };
    }
    this.expect("=");
    this.skip();
    if (this.text[this.i] === '"') {
      return { path, op: "=", value: this.quoted() };
    }
    const number = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.i));
    if (!number) throw new Error(`value expected at ${this.i}`);
    this.i += number[0].length;
    return { path, op: "=", value: Number(number[0]) };
  }

  /** Returns the quoted text with escapes kept as a glob source: `\*` is not produced by the generator. */
  private quoted(): string {
    this.i += 1;
    let out = "";
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) throw new Error("unterminated string");
      this.i += 1;
      if (c === '"') return out;
      if (c === "\\") {
        const escaped = this.text[this.i];
        if (escaped !== '"' && escaped !== "\\") throw new Error(`unknown escape \\${escaped}`);
        out += escaped === "\\" ? "\\\\" : '"';
        this.i += 1;
      } else {
        out += c === "*" ? "\u0000" : c;
      }
    }
  }

  private expect(token: string): void {
    this.skip();
    if (!this.text.startsWith(token, this.i)) throw new Error(`${token} expected at ${this.i}: ${this.text.slice(this.i, this.i + 20)}`);
    this.i += token.length;
  }

  private skip(): void {
    while (this.text[this.i] === " ") this.i += 1;
  }
}

/** `pattern` (glob source: NUL for the wildcard, `\\\\` for a literal backslash) as a RegExp. */
function globRegExp(source: string): RegExp {
  let out = "";
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === "\u0000") out += "[\\s\\S]*";
    else if (c === "\\" && source[i + 1] === "\\") {
      out += "\\\\";
      i += 1;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "u");
}

function evaluate(node: Node, event: unknown): boolean {
  if ("and" in node) return node.and.every((n) => evaluate(n, event));
  if ("or" in node) return node.or.some((n) => evaluate(n, event));
  let value: unknown = event;
  for (const key of node.path) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !(key in value)) return false;
    value = (value as Record<string, unknown>)[key];
  }
  if (node.op === "IS") return value === node.value;
  if (typeof node.value === "number") return value === node.value;
  return typeof value === "string" && globRegExp(node.value as string).test(value);
}

/** True when the filter pattern matches the JSON log event; "" matches everything. Throws on a pattern it cannot parse. */
export function logsFilterMatches(pattern: string, event: unknown): boolean {
  if (pattern.trim() === "") return true;
  return evaluate(new Parser(pattern).parse(), event);
}
