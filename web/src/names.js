// names.js — the naming rule of endpoints and deployments (SPEC §1, src/control/names.cc),
// checked as the user types, worded as the API words it. The API checks it again.
export function nameProblem(name, what) {
  if (name.length < 3 || name.length > 32) return `${what} must be 3 to 32 characters long (got ${name.length})`;
  if (!/^[A-Za-z]/.test(name)) return `${what} must start with a letter`;
  if (!/^[A-Za-z0-9-]+$/.test(name)) return `${what} may contain only letters, digits and '-'`;
  return "";
}
