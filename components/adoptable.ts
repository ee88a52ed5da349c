/**
 * How a component's arguments choose between adopting an existing resource and creating one: the adopting argument
 * (`existing`) or the creation arguments, never both (pulumi-awsx's `defaultLogGroup` takes `existing` or `args` and
 * throws on both). Components keep their own argument names; this names them for checks and messages.
 */
export interface Adoption<K extends string = string> {
  /** The argument that adopts, for example `existingTopicArn`. Given, nothing is created. */
  existing: K;
  /** What is adopted, in messages: `existingTopicArn adopts a topic and ...`. */
  resource: string;
  /** The arguments only creating uses. */
  createOnly: readonly string[];
  /** The arguments only adopting uses, besides `existing`. @default - none */
  adoptOnly?: readonly string[];
  /** What to do instead, added to the message about create-only arguments given with `existing`. @default - nothing */
  hint?: string;
}

/** The adopting form of a component's arguments: the members of the union `Args` that require `K`. */
export type AdoptForm<Args, K extends PropertyKey> = Extract<Args, Record<K, NonNullable<unknown>>>;
/** The creating form of a component's arguments: the members of the union `Args` that do not require `K`. */
export type CreateForm<Args, K extends PropertyKey> = Exclude<Args, Record<K, NonNullable<unknown>>>;

/**
 * The problems of `args` against `adoption`: create-only arguments given together with `existing`, or adopt-only
 * arguments given without it. Empty when the arguments choose one form.
 */
export function adoptionProblems(args: object, adoption: Adoption): string[] {
  const given = args as Record<string, unknown>;
  const isGiven = (key: string) => given[key] !== undefined;
  const adoptOnly = adoption.adoptOnly ?? [];
  if (isGiven(adoption.existing)) {
    const mixed = adoption.createOnly.filter(isGiven);
    return mixed.length === 0 ? [] : [`${adoption.existing} adopts a ${adoption.resource} and cannot be combined with ${mixed.join(", ")}${adoption.hint === undefined ? "" : `; ${adoption.hint}`}`];
  }
  if (adoptOnly.some(isGiven)) {
    const named = adoptOnly.length === 1 ? adoptOnly[0] : `${adoptOnly.slice(0, -1).join(", ")} and ${adoptOnly[adoptOnly.length - 1]}`;
    return [`${named} ${adoptOnly.length === 1 ? "applies" : "apply"} only together with ${adoption.existing}`];
  }
  return [];
}

/**
 * Adopts or creates: calls `how.adopt` with the arguments when `existing` is given, `how.create` otherwise, and returns
 * what it returned. Throws when the arguments mix both forms (see {@link adoptionProblems}); a component reports those
 * problems first, with its name, from its `validateArgs`.
 */
export function adoptOrCreate<Args extends object, K extends keyof Args & string, R>(
  args: Args,
  adoption: Adoption<K>,
  how: { adopt(args: AdoptForm<Args, K>): R; create(args: CreateForm<Args, K>): R },
): R {
  const problems = adoptionProblems(args, adoption);
  if (problems.length > 0) {
    throw new Error(problems.join("; "));
  }
  return args[adoption.existing] !== undefined ? how.adopt(args as AdoptForm<Args, K>) : how.create(args as CreateForm<Args, K>);
}
