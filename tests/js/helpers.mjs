// Small helpers shared by the npm package's tests.

/** The `code` of what `f` throws, or `"passed"` when it returns. */
export function codeOf(f) {
  try {
    f();
  } catch (e) {
    return e.code;
  }
  return "passed";
}
