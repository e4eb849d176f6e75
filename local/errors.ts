/** A start-up problem worth one clear line to the user (missing Java, port in use, bad setting). */
export class StartupError extends Error {
  override name = "StartupError";
}
