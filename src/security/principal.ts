/**
 * An authenticated caller: a name safe to log (the key's name or the token's `sub`, never a secret) and
 * the models it may use.
 *
 * @example
 * const ci: Principal = { name: "ci-job", models: new Set(["half_plus_two"]) };
 */
export interface Principal {
  readonly name: string;
  /** The models the caller may use; undefined = every model. */
  readonly models: ReadonlySet<string> | undefined;
}

/** Whether `principal` may use `model`. */
export function mayUseModel(principal: Principal, model: string): boolean {
  return principal.models === undefined || principal.models.has(model);
}
