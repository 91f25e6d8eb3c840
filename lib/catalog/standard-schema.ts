/**
 * The Standard Schema interface (https://standardschema.dev), which zod, Valibot, ArkType
 * and others implement: a channel's event schemas may come from any of them. Copied, as the
 * spec asks, rather than depended on.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The type a schema accepts. */
export type SchemaInput<S> = S extends StandardSchemaV1<infer I, unknown> ? I : unknown;

/** Whether a value is a Standard Schema (a declaration can say something else by mistake). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const standard = (value as { "~standard"?: { version?: unknown; validate?: unknown } } | null)?.[
    "~standard"
  ];
  return standard?.version === 1 && typeof standard.validate === "function";
}

/** `qty: expected number`: an issue with its path, the way a 400 names it. */
export function describeStandardIssue(issue: StandardIssue, root: string): string {
  const keys = (issue.path ?? []).map((part) =>
    typeof part === "object" ? String(part.key) : String(part),
  );
  return `${[root, ...keys].join(".")}: ${issue.message}`;
}
