import * as pulumi from "@pulumi/pulumi";

/**
 * A list that other components add to while the program constructs its resources, exposed as one Output
 * that resolves once construction is done. It lets a resource created in a component's constructor (a topic
 * policy, a trail's event selectors) include what components created later contribute, without creating
 * children after the constructor.
 *
 * Construction counts as done at the first turn of the event loop after the list was created: Pulumi programs
 * build their resources synchronously. Adding afterwards (for example inside `apply`, or after an `await` in an
 * async program) throws instead of silently leaving the contribution out.
 */
export class Contributions<T> {
  private readonly items: pulumi.Input<T>[] = [];
  private closed = false;
  /** Every contribution, resolved; resolves after construction. */
  readonly all: pulumi.Output<T[]>;

  /** @param what names the list in the error thrown for late additions, e.g. `AlertTopic "alerts" publishers`. */
  constructor(private readonly what: string) {
    const constructionDone = new Promise<true>((resolve) =>
      setImmediate(() => {
        this.closed = true;
        resolve(true);
      }),
    );
    // Items are plain values or Outputs of plain values, so unwrapping them yields T.
    this.all = pulumi.output(constructionDone).apply(() => pulumi.all(this.items)) as pulumi.Output<T[]>;
  }

  /** Adds one item; throws when called after construction has finished. */
  add(item: pulumi.Input<T>): void {
    if (this.closed) {
      throw new Error(
        `${this.what}: added after the program finished constructing resources; create every component ` +
          `synchronously in the program (not inside apply() or after an await) so the addition is not lost`,
      );
    }
    this.items.push(item);
  }
}
