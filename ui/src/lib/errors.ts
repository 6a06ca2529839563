// Backend errors: the contract's `AppError`, wrapped in an Error class, and put into words.

/**
 * Why a command failed (app-contract.md). src/api.ts checks at compile time that the
 * generated bindings' error type fits this union.
 */
export type AppError =
  | { kind: "invalidSetting"; key: string; message: string }
  | { kind: "io"; message: string }
  | { kind: "wallet"; message: string }
  | { kind: "nodeNotRunning" }
  | { kind: "autostart"; message: string };

/** A failed backend call; `error` is the typed `AppError`. */
export class ApiError extends Error {
  readonly error: AppError;

  constructor(error: AppError) {
    super(describeError(error));
    this.name = "ApiError";
    this.error = error;
  }
}

const KINDS = new Set(["invalidSetting", "io", "wallet", "nodeNotRunning", "autostart"]);

/** Whatever a call threw (an `AppError`, an Error, a string from Tauri) as an `AppError`. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof ApiError) return thrown.error;
  if (typeof thrown === "object" && thrown !== null && "kind" in thrown) {
    const kind = (thrown as { kind: unknown }).kind;
    if (typeof kind === "string" && KINDS.has(kind)) return thrown as AppError;
  }
  if (thrown instanceof Error) return { kind: "io", message: thrown.message };
  if (typeof thrown === "string") return { kind: "io", message: thrown };
  return { kind: "io", message: JSON.stringify(thrown) ?? String(thrown) };
}

/** One sentence for a person. */
export function describeError(error: AppError): string {
  switch (error.kind) {
    case "invalidSetting":
      return error.message || `${error.key} is not valid`;
    case "io":
      return `Could not read or write a file: ${error.message}`;
    case "wallet":
      return `Wallet problem: ${error.message}`;
    case "nodeNotRunning":
      return "The node is not running.";
    case "autostart":
      return `Could not change start at login: ${error.message}`;
  }
}

/** The message of anything a call threw. */
export function messageOf(thrown: unknown): string {
  return describeError(toAppError(thrown));
}
