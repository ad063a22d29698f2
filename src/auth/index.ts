// Auth and RBAC: the replicated auth store, merged range permissions, and simple tokens.
export { AuthStore, compareNames, ROOT_PERMISSION, type AuthApplied } from "./auth-store.js";
export type { RoleRecord, UserRecord } from "./auth-store.js";
export {
  isValidPermissionRange,
  permissionInterval,
  RangePermissions,
  type KeyInterval,
} from "./range-permissions.js";
export {
  DEFAULT_MAX_SIMPLE_TOKENS,
  DEFAULT_SIMPLE_TOKEN_TTL_MS,
  SimpleTokens,
} from "./simple-tokens.js";
export { answerChange, readAuth } from "./answers.js";
